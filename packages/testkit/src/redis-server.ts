import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listening, sleep } from './ports.ts';

/** Sends one inline command over a fresh socket and returns the raw reply (for readiness checks). */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${command} from port ${port}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (respEnd(reply, 0) === reply.length) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Where the RESP2 value starting at `at` ends, or -1 when `text` does not hold all of it yet. */
function respEnd(text: string, at: number): number {
  const eol = text.indexOf('\r\n', at);
  if (eol < 0) return -1;
  const type = text[at];
  const head = text.slice(at + 1, eol);
  if (type === '$') {
    const length = Number(head);
    if (length < 0) return eol + 2;
    // Bulk lengths count bytes; the replies tests read are ASCII.
    return text.length >= eol + 2 + length + 2 ? eol + 2 + length + 2 : -1;
  }
  if (type === '*') {
    let next = eol + 2;
    for (let i = 0; i < Number(head); i++) {
      next = respEnd(text, next);
      if (next < 0) return -1;
    }
    return next;
  }
  return eol + 2;
}

/** Resolves once the server on `port` answers PING, or rejects after `timeoutMs`. */
export async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const reply = await rawCommand(port, 'PING', 500);
      if (reply.startsWith('+PONG')) return;
    } catch {
      // not up yet
    }
    if (performance.now() > deadline) throw new Error(`redis on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface RedisServerSpec {
  /** Extra server arguments, e.g. `['--maxclients', '20000']`. */
  args?: string[];
  /** Run as a Sentinel with this configuration (written to a file the sentinel may rewrite). */
  sentinelConfig?: string;
  /** Port to listen on; default a free one. */
  port?: number;
  /** Working directory (kept on stop); default a new temporary one (removed on stop). */
  dir?: string;
  /**
   * Append-only file on (fsync every second, and on shutdown), so a SIGTERM restart keeps
   * every key — a restart that lost the fencing counter would be data loss, not a restart.
   * Default off: nothing is persisted.
   */
  persistent?: boolean;
  /** TLS only: the port speaks TLS and nothing else (`--port 0 --tls-port`). */
  tls?: RedisServerTls;
}

/** A TLS-only server's certificate, and the CA its clients' certificates must chain to. */
export interface RedisServerTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** Require client certificates (`--tls-auth-clients yes`). Default false. */
  authClients?: boolean;
}

function tlsArgs(port: number, tls: RedisServerTls): string[] {
  return [
    '--port', '0', '--tls-port', String(port),
    '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile,
    '--tls-auth-clients', tls.authClients ? 'yes' : 'no',
  ];
}

/** Resolves once something accepts TCP connections on `port` (a TLS-only server answers no plain PING), or rejects after `timeoutMs`. */
async function waitForListener(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await listening(port))) {
    if (performance.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A redis-server (or sentinel) process of the test's own, on a loopback port, with its
 * working directory in a temporary folder. Never touches the shared 6379. Restarts keep the
 * port and the directory.
 */
export class RedisServerProcess {
  readonly port: number;
  readonly dir: string;
  private readonly spec: RedisServerSpec;
  private readonly ownDir: boolean;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  output = '';

  private constructor(port: number, spec: RedisServerSpec, dir: string, ownDir: boolean) {
    this.port = port;
    this.spec = spec;
    this.dir = dir;
    this.ownDir = ownDir;
  }

  static async start(spec: RedisServerSpec = {}): Promise<RedisServerProcess> {
    const dir = spec.dir ?? mkdtempSync(join(tmpdir(), 'baton-redis-'));
    const server = new RedisServerProcess(spec.port ?? (await freePort()), spec, dir, spec.dir === undefined);
    if (spec.sentinelConfig !== undefined) writeFileSync(join(dir, 'sentinel.conf'), spec.sentinelConfig);
    await server.spawn();
    return server;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process (again) on the same port and directory. */
  async spawn(): Promise<void> {
    if (this.child) throw new Error('already running');
    const listen = this.spec.tls ? tlsArgs(this.port, this.spec.tls) : ['--port', String(this.port)];
    const common = [...listen, '--bind', '127.0.0.1', '--dir', this.dir];
    const persistence = this.spec.persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
    const argv =
      this.spec.sentinelConfig !== undefined
        ? [join(this.dir, 'sentinel.conf'), '--sentinel', ...common, ...(this.spec.args ?? [])]
        : [...common, '--save', '', ...persistence, ...(this.spec.args ?? [])];
    const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await (this.spec.tls ? waitForListener(this.port) : waitForPing(this.port));
    } catch (error) {
      await this.kill();
      throw new Error(`${String(error)}\n${this.output}`, { cause: error });
    }
  }

  /**
   * Stops the process with `signal` and waits for it to exit: SIGKILL (the default) is a
   * crash, nothing saved; SIGTERM lets Redis write its append-only file first.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Stops (SIGKILL unless `signal` says otherwise), stays down `downMs`, and starts again on the same port. */
  async restart(options: { signal?: NodeJS.Signals; downMs?: number } = {}): Promise<void> {
    await this.kill(options.signal);
    if (options.downMs) await sleep(options.downMs);
    await this.spawn();
  }

  /** Stops the process and removes its directory when it made it. */
  async stop(): Promise<void> {
    await this.kill(this.spec.persistent ? 'SIGTERM' : 'SIGKILL');
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
