import type { Clock, Logger } from '@baton/core';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { closeClient } from './clients.ts';
import { NO_IOREDIS_RETRY, Reconnector } from './reconnector.ts';

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
  private readonly reconnectors: Reconnector[] = [];
  private readonly clock: Clock;

  constructor(options: RedisOptions, onSwitch: () => void, { clock, logger }: { clock: Clock; logger: Logger }) {
    const name = options.name;
    this.clock = clock;
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
        retryStrategy: NO_IOREDIS_RETRY,
      });
      this.reconnectors.push(new Reconnector(client, { clock, logger, what: 'sentinel' }));
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
    for (const reconnector of this.reconnectors) reconnector.stop();
    await Promise.all(this.clients.map((client) => closeClient(client, this.clock)));
  }
}
