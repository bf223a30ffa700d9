import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sleep } from './clock.ts';
import { freePort } from './ports.ts';

/**
 * A throwaway PostgreSQL cluster (initdb in the run directory, on a free loopback port), for
 * runs that restart the server for real (`--pg-restart`): the shared server on 5432 is never
 * restarted. Runs as the `postgres` user when this process is root (PostgreSQL refuses root).
 */
export class PostgresCluster {
  readonly port: number;
  private readonly dataDir: string;
  private readonly binDir: string;
  private child: ChildProcess | undefined;

  private constructor(port: number, dataDir: string, binDir: string) {
    this.port = port;
    this.dataDir = dataDir;
    this.binDir = binDir;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(dir: string): Promise<PostgresCluster> {
    const binDir = findBinDir();
    const dataDir = join(dir, 'pgdata');
    mkdirSync(dataDir, { recursive: true });
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
      chownSync(dir, uid, gid);
      chownSync(dataDir, uid, gid);
    }
    const init = spawnSync(...command(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']), { stdio: 'pipe' });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`);
    const cluster = new PostgresCluster(await freePort(), dataDir, binDir);
    await cluster.launch();
    return cluster;
  }

  private async launch(): Promise<void> {
    const args = ['-D', this.dataDir, '-p', String(this.port), '-k', this.dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=400'];
    const child = spawn(...command(join(this.binDir, 'postgres'), args), { stdio: 'ignore' });
    this.child = child;
    const deadline = performance.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
      const client = new pg.Client({ connectionString: this.url });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode} (another server on port ${this.port}?)`);
        return;
      } catch {
        await client.end().catch(() => {});
        if (performance.now() > deadline) throw new Error('postgres did not accept connections within 30 s');
        await sleep(100);
      }
    }
  }

  private postmasterPid(): number | undefined {
    return readPid(join(this.dataDir, 'postmaster.pid'));
  }

  /** A fast shutdown (SIGINT: sessions are ended, advisory locks freed), `downMs`, then the same port. */
  async restart(downMs: number): Promise<void> {
    await this.shutdown();
    await sleep(downMs);
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Signal the postmaster itself: runuser, in between when we are root, does not pass SIGINT on.
    const postmaster = this.postmasterPid() ?? child.pid;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        if (postmaster !== undefined) process.kill(postmaster, sig);
      } catch {
        // already gone
      }
    };
    signal('SIGINT');
    const timer = setTimeout(() => {
      signal('SIGQUIT');
      child.kill('SIGKILL');
    }, 15_000);
    await exited;
    clearTimeout(timer);
    // The postmaster may outlive runuser by a moment; wait until its pid file is gone.
    const deadline = performance.now() + 15_000;
    while (this.postmasterPid() !== undefined && performance.now() < deadline) await sleep(20);
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function command(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function findBinDir(): string {
  const out = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1']).stdout.toString().trim();
  if (!out) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/*/bin');
  return out;
}
