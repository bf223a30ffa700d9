import { createRequire } from 'node:module';
import type { Etcd3 as Etcd3Client } from 'etcd3';
import { sleep } from '../lib/clock.ts';
import type { BenchContext } from './common.ts';
import type { RoundTripProbe } from './interleaved.ts';
import type { Contender } from './peer-contender.ts';

const require = createRequire(import.meta.url);

function etcdClient(ctx: BenchContext): Etcd3Client {
  const { Etcd3 } = require('etcd3') as typeof import('etcd3');
  return new Etcd3({ hosts: String(ctx.server.connectInfo().url) });
}

/**
 * The etcd3 client's own recipes on the same etcd: `Lock` (a lease-bound key; `acquire()`
 * fails at once when taken, so a waiter retries every 10 ms, as the other peers are tuned)
 * and `Election` (a campaign that waits on the watch for its turn, resigned to hand over).
 */
export function etcdPeers(ctx: BenchContext): Contender[] {
  const clients: Etcd3Client[] = [];
  const open = (): Etcd3Client => {
    const client = etcdClient(ctx);
    clients.push(client);
    return client;
  };
  const closeClients = async (): Promise<void> => {
    for (const client of clients.splice(0)) client.close();
  };
  return [
    {
      name: 'etcd3 1.1.2 (Lock)',
      settings: 'one client per worker, lease TTL 30 s (default); acquire() fails when taken: retried every 10 ms',
      async worker() {
        const client = open();
        const { EtcdLockFailedError } = require('etcd3') as typeof import('etcd3');
        return {
          async acquire(resource) {
            for (;;) {
              const lock = client.lock(resource);
              try {
                await lock.acquire();
                return () => lock.release();
              } catch (error) {
                if (!(error instanceof EtcdLockFailedError)) throw error;
                await sleep(10);
              }
            }
          },
          close: async () => {},
        };
      },
      close: closeClients,
    },
    {
      name: 'etcd3 1.1.2 (Election)',
      settings: 'one client per worker, session TTL 60 s (default); campaign() waits on the watch, resign() hands over',
      async worker(index) {
        const client = open();
        return {
          async acquire(resource) {
            const campaign = client.election(resource).campaign(`w${index}`);
            const failed = new Promise<never>((_, reject) => campaign.once('error', reject));
            await Promise.race([new Promise<void>((resolve) => campaign.once('elected', () => resolve())), failed]);
            return () => campaign.resign();
          },
          close: async () => {},
        };
      },
      close: closeClients,
    },
  ];
}

/** A raw round trip on the same kind of connection: a range read of one key. */
export async function probeEtcd(ctx: BenchContext): Promise<RoundTripProbe> {
  const client = etcdClient(ctx);
  await client.get('bench-rtt').string();
  return {
    once: async () => void (await client.get('bench-rtt').string()),
    close: async () => client.close(),
  };
}
