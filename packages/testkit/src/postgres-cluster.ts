import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, sleep } from './ports.ts';

const run = promisify(execFile);

export interface PostgresClusterOptions {
  /** Where the cluster lives (`<dir>/pgdata`); default a new temporary directory, removed on stop. */
  dir?: string;
  /** Extra server settings (`-c name=value`), e.g. `{ max_connections: '400' }`. */
  settings?: Record<string, string>;
  /** Where initdb, pg_ctl and pg_isready are; default the newest `/usr/lib/postgresql/<version>/bin`. */
  binDir?: string;
  /** Serve TLS (`ssl=on`) with this certificate; `caFile` is the CA client certificates are checked against. */
  tls?: { certFile: string; keyFile: string; caFile?: string };
  /**
   * The lines of `pg_hba.conf`, instead of initdb's trust for everyone — e.g.
   * `hostssl all all 127.0.0.1/32 trust clientcert=verify-full`.
   */
  hba?: readonly string[];
}

/**
 * A throwaway PostgreSQL cluster of the test's own: `initdb` in a temporary directory,
 * `pg_ctl` on a free loopback port, trust authentication for `postgres`. It can be stopped,
 * restarted and crashed for real without touching the shared server on 5432. PostgreSQL
 * refuses to run as root, so when this process is root every command runs as the `postgres`
 * user (`runuser`), which then owns the directory.
 */
export class PostgresCluster {
  readonly port: number;
  readonly dir: string;
  readonly dataDir: string;
  private readonly binDir: string;
  private readonly settings: Record<string, string>;
  private readonly ownDir: boolean;
  private up = false;

  private constructor(port: number, dir: string, binDir: string, settings: Record<string, string>, ownDir: boolean) {
    this.port = port;
    this.dir = dir;
    this.dataDir = join(dir, 'pgdata');
    this.binDir = binDir;
    this.settings = settings;
    this.ownDir = ownDir;
  }

  /** initdb, then start on a free port; resolves once the server accepts connections. */
  static async create(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
    const binDir = options.binDir ?? findBinDir();
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'baton-pg-'));
    const settings = { ...(options.tls && tlsSettings(options.tls)), ...options.settings };
    const cluster = new PostgresCluster(await freePort(), dir, binDir, settings, options.dir === undefined);
    mkdirSync(cluster.dataDir, { recursive: true });
    const owner = postgresUser();
    if (owner) {
      chownSync(dir, owner.uid, owner.gid);
      chownSync(cluster.dataDir, owner.uid, owner.gid);
    }
    try {
      await cluster.bin('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
      if (options.tls) cluster.installTlsFiles(options.tls, owner);
      if (options.hba) cluster.writeDataFile('pg_hba.conf', `${options.hba.join('\n')}\n`, owner);
      await cluster.start();
    } catch (error) {
      if (cluster.ownDir) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return cluster;
  }

  /** node-postgres style connection settings. */
  get connection(): { host: string; port: number; user: string; database: string } {
    return { host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' };
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get running(): boolean {
    return this.up;
  }

  /** The postmaster's process id while it runs. */
  get pid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Starts the server on its port; resolves once it accepts connections. */
  async start(): Promise<void> {
    const settings = { listen_addresses: '127.0.0.1', fsync: 'off', max_connections: '400', ...this.settings };
    const serverArgs = ['-p', String(this.port), '-k', this.dataDir, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    await this.bin('pg_ctl', ['start', '-D', this.dataDir, '-l', join(this.dataDir, 'server.log'), '-w', '-t', '60', '-o', serverArgs]);
    this.up = true;
    // pg_ctl -w waits for the postmaster; also wait until it answers on TCP.
    const deadline = performance.now() + 30_000;
    while ((await this.bin('pg_isready', ['-h', '127.0.0.1', '-p', String(this.port), '-t', '1']).then(() => true, () => false)) === false) {
      if (performance.now() > deadline) throw new Error(`postgres on port ${this.port} started but does not accept connections; log: ${this.log()}`);
      await sleep(50);
    }
  }

  /**
   * Stops the server: `fast` (the default) ends every session (their advisory locks are
   * freed, clients see their connections close) and shuts down cleanly; `immediate` is a
   * crash (no checkpoint; recovery on the next start).
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.up) return;
    this.up = false;
    await this.bin('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60']);
  }

  /** A real restart: stop (`fast` by default), `downMs` with the port closed, start on the same port and data. */
  async restart(options: { mode?: 'fast' | 'immediate'; downMs?: number } = {}): Promise<void> {
    await this.stop(options.mode);
    if (options.downMs) await sleep(options.downMs);
    await this.start();
  }

  /** Stops the server and removes the directory when it made it. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** The end of the server log, for error messages. */
  log(): string {
    const file = join(this.dataDir, 'server.log');
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '(no log)';
  }

  /** Copies the certificate and key into the data directory: the server insists on owning its key, readable by nobody else. */
  private installTlsFiles(tls: NonNullable<PostgresClusterOptions['tls']>, owner: { uid: number; gid: number } | undefined): void {
    const files: Array<[string, string]> = [['server.crt', tls.certFile], ['server.key', tls.keyFile]];
    if (tls.caFile) files.push(['root.crt', tls.caFile]);
    for (const [name, from] of files) {
      const to = join(this.dataDir, name);
      copyFileSync(from, to);
      chmodSync(to, 0o600);
      if (owner) chownSync(to, owner.uid, owner.gid);
    }
  }

  private writeDataFile(name: string, text: string, owner: { uid: number; gid: number } | undefined): void {
    const path = join(this.dataDir, name);
    writeFileSync(path, text, { mode: 0o600 });
    if (owner) chownSync(path, owner.uid, owner.gid);
  }

  private async bin(name: string, args: string[]): Promise<void> {
    const path = join(this.binDir, name);
    const [file, argv] = postgresUser() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    try {
      await run(file, argv, { timeout: 90_000 });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`${name} ${args[0] ?? ''} failed: ${stderr.trim() || String(error)}`, { cause: error });
    }
  }
}

/** Server settings of `ssl=on` with the files {@link PostgresCluster.installTlsFiles} copies (relative to the data directory). */
function tlsSettings(tls: NonNullable<PostgresClusterOptions['tls']>): Record<string, string> {
  return { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key', ...(tls.caFile && { ssl_ca_file: 'root.crt' }) };
}

/** The `postgres` user's ids when this process is root (PostgreSQL will not run as root), else undefined. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
  if (!Number.isSafeInteger(uid) || uid <= 0) throw new Error('running as root, and there is no "postgres" user to run PostgreSQL as');
  return { uid, gid };
}

function findBinDir(): string {
  const out = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1']).stdout.toString().trim();
  if (!out) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)');
  return out;
}
