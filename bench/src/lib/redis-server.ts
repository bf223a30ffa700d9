import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { sleep } from './clock.ts';
import { freePort } from './ports.ts';

/**
 * A dedicated `redis-server` on a free loopback port, for one run: the harness may restart it
 * and the benches may read its command counters without touching the shared server on 6379.
 */
export class RedisServerProcess {
  readonly port: number;
  private readonly dir: string;
  private readonly persistent: boolean;
  private child: ChildProcess | undefined;

  private constructor(port: number, dir: string, persistent: boolean) {
    this.port = port;
    this.dir = dir;
    this.persistent = persistent;
  }

  /**
   * @param persistent - append-only file on (fsync every second, and on shutdown), so a
   * restart keeps every key — a restart that lost the fencing counter would be a data-loss
   * scenario, not a restart.
   */
  static async start(dir: string, persistent: boolean): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort(), dir, persistent);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', this.persistent ? 'yes' : 'no',
      '--appendfsync', 'everysec',
      '--dir', this.dir,
      '--logfile', 'redis.log',
      '--daemonize', 'no',
      '--maxclients', '20000',
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    const deadline = performance.now() + 10_000;
    while (!(await ping(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (see ${this.dir}/redis.log)`);
      if (performance.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
      await sleep(20);
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGTERM (redis writes its AOF and exits), `downMs` of outage, then the same port again. */
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
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** One raw PING over a fresh socket: true on +PONG. */
export function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
