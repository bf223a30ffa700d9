import type { Logger } from '@baton/core';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { closeClient } from './clients.ts';

const CHANNEL = '+switch-master';

/**
 * Listens for `+switch-master` on the Sentinels of a connection baton opened, and calls
 * `onSwitch` the moment one announces a new master for `options.name`. Without it, clients
 * keep writing to the demoted master until Sentinel reconfigures it (up to ~10 s later), and
 * those writes are lost when it resyncs from the new master.
 *
 * One connection per Sentinel (at most three) per session, however many locks it serves.
 * (ioredis' own `failoverDetector` does the same per client, but leaves timers behind.)
 */
export class SentinelWatch {
  private readonly clients: Redis[];

  constructor(options: RedisOptions, onSwitch: () => void, logger: Logger) {
    const name = options.name;
    this.clients = (options.sentinels ?? []).slice(0, 3).map((sentinel) => {
      const client = new Redis({
        host: sentinel.host ?? '127.0.0.1',
        port: sentinel.port ?? 26379,
        ...(sentinel.family === undefined ? {} : { family: sentinel.family }),
        ...(options.sentinelUsername === undefined ? {} : { username: options.sentinelUsername }),
        ...(options.sentinelPassword === undefined ? {} : { password: options.sentinelPassword }),
        ...(options.sentinelTLS === undefined ? {} : { tls: options.sentinelTLS }),
        enableReadyCheck: false,
        disconnectTimeout: 200,
        connectTimeout: 5_000,
        retryStrategy: (times) => Math.min(100 * times, 2_000),
      });
      client.on('error', () => {});
      client.on('message', (channel: string, message: string) => {
        if (channel !== CHANNEL || message.split(' ')[0] !== name) return;
        logger.info({ sentinel: `${client.options.host}:${client.options.port}`, message }, 'Sentinel switched masters; reconnecting');
        onSwitch();
      });
      client.subscribe(CHANNEL).catch(() => {});
      return client;
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => closeClient(client)));
  }
}
