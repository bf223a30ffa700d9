import { Redis } from 'ioredis';
import { RedisLockFactory } from '@baton/lock-redis';
import { RedisServerProcess } from '@baton/testkit';
import type { Address, BackendDriver, BackendServer, ClientMeter, ConnectInfo, FactoryOptions, LockFactoryHandle, ServerOptions } from './types.ts';

/** Connection names are `b-<label>` (commands) and `b-<label>-sub` (the subscriber lock-redis opens). */
const LABEL_PREFIX = 'b-';

class RedisBackend implements BackendServer {
  readonly name = 'redis' as const;
  readonly address: Address;
  private readonly server: RedisServerProcess;
  private admin: Redis;
  private baseline: Record<string, number> = {};

  constructor(server: RedisServerProcess) {
    this.server = server;
    this.address = { host: '127.0.0.1', port: server.port };
    this.admin = this.openAdmin();
  }

  private openAdmin(): Redis {
    const client = new Redis({ host: this.address.host, port: this.address.port, connectionName: 'bench-admin', lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    return client;
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  connectInfo(via?: Address): ConnectInfo {
    const address = via ?? this.address;
    return { host: address.host, port: address.port };
  }

  async restart(downMs: number): Promise<string> {
    this.admin.disconnect();
    await this.server.restart({ signal: 'SIGTERM', downMs });
    this.admin = this.openAdmin();
    return 'redis-server SIGTERM (AOF flushed) + restart on the same port';
  }

  /** Server-wide command counts (INFO commandstats) since the last reset; the server cannot attribute them. */
  async requestCounts(): Promise<Record<string, Record<string, number>>> {
    const now = await this.commandStats();
    const row: Record<string, number> = {};
    let total = 0;
    for (const [command, calls] of Object.entries(now)) {
      // The admin connection's own INFO calls are not the system under test.
      const delta = calls - (this.baseline[command] ?? 0) - (command === 'info' ? 1 : 0);
      if (delta <= 0) continue;
      row[command] = delta;
      total += delta;
    }
    row.total = total;
    return { '*': row };
  }

  async resetRequestCounts(): Promise<void> {
    this.baseline = await this.commandStats();
  }

  private async commandStats(): Promise<Record<string, number>> {
    const text = await this.admin.info('commandstats');
    const stats: Record<string, number> = {};
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[match[1]!] = Number(match[2]);
    return stats;
  }

  async stop(): Promise<void> {
    this.admin.disconnect();
    await this.server.stop();
  }
}

/** Counts every command ioredis sends in this process, by connection name (`b-<label>`). */
function meter(): ClientMeter {
  const proto = Redis.prototype as unknown as { sendCommand(command: { name: string }, stream?: unknown): unknown };
  const original = proto.sendCommand;
  let counts: Record<string, Record<string, number>> = {};
  proto.sendCommand = function (this: Redis, command: { name: string }, stream?: unknown) {
    const name = String(this.options.connectionName ?? '');
    if (name.startsWith(LABEL_PREFIX)) {
      // The factory's subscriber connection (`b-<label>-sub`) counts towards the same client.
      const label = name.slice(LABEL_PREFIX.length).replace(/-sub$/, '');
      const op = command.name.toLowerCase();
      for (const key of [label, '*']) {
        const row = (counts[key] ??= {});
        row[op] = (row[op] ?? 0) + 1;
        row.total = (row.total ?? 0) + 1;
      }
    }
    return original.call(this, command, stream);
  };
  return {
    snapshot: () => structuredClone(counts),
    reset: () => {
      counts = {};
    },
    stop: () => {
      proto.sendCommand = original;
    },
  };
}

export const redisDriver: BackendDriver = {
  name: 'redis',
  sessionBound: false,
  async startServer(options: ServerOptions): Promise<BackendServer> {
    // AOF on: a restart keeps every key (a restart that lost the fencing counter would be data loss).
    const server = await RedisServerProcess.start({ dir: options.dir, persistent: true, args: ['--logfile', 'redis.log', '--maxclients', '20000'] });
    options.log?.(`redis-server pid ${server.pid} on 127.0.0.1:${server.port} (dedicated, AOF on)`);
    return new RedisBackend(server);
  },
  async openFactory(info: ConnectInfo, options: FactoryOptions): Promise<LockFactoryHandle> {
    const factory = new RedisLockFactory({
      connection: { host: String(info.host), port: Number(info.port) },
      connectionName: `${LABEL_PREFIX}${options.label ?? 'x'}`,
    });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close(), primitives: factory.primitives };
  },
  batonFlags: (info) => ['--backend', 'redis', '--url', `redis://${String(info.host)}:${Number(info.port)}`],
  meter,
};
