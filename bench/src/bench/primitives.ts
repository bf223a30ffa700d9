// Issue 18's figures: semaphores and reader-writer locks beside the mutex.
// - Semaphore acquire+release, uncontended (one caller) and contended (more workers than
//   permits, each with its own client as separate processes would be), baton's
//   `DistributedLocks.semaphore` on @baton/lock-redis against redis-semaphore's `Semaphore`,
//   one after the other on the same redis-server in one run.
// - Reader-writer against the mutex on Redis and PostgreSQL: one caller acquiring and releasing
//   a read, a write, and a plain mutex, on the same server in one run.
import { createRequire } from 'node:module';
import { DistributedLocks } from '@baton/core';
import { Redis } from 'ioredis';
import type { BackendDriver, BackendServer, LockFactoryHandle } from '../backends/types.ts';
import { now } from '../lib/clock.ts';
import { round, summarize } from '../lib/stats.ts';
import type { Summary } from '../lib/stats.ts';
import { DEFAULTS } from './common.ts';

const require = createRequire(import.meta.url);

export interface PrimitiveOptions {
  /** Acquire+release cycles of the uncontended runs (after a warm-up of a tenth). */
  cycles: number;
  /** How long each contended run lasts, ms. */
  windowMs: number;
  permits: number;
  /** Contended workers, each with its own client(s). */
  workers: number;
}

export interface Figure {
  name: string;
  operations: number;
  operationsPerSecond: number;
  /** One acquire+release, ms. */
  latency: Summary;
  error?: string;
}

/** Something that acquires and resolves with its release. */
type Acquirer = () => Promise<() => Promise<void>>;

interface Side {
  name: string;
  /** Opens one client (as one process would have) and returns how it acquires. */
  open(): Promise<{ acquire: Acquirer; close(): Promise<void> }>;
}

async function sequential(side: Side, cycles: number): Promise<Figure> {
  const client = await side.open();
  try {
    for (let i = 0; i < Math.max(5, cycles / 10); i++) await (await client.acquire())();
    const latencies: number[] = [];
    const started = now();
    for (let i = 0; i < cycles; i++) {
      const t = now();
      await (await client.acquire())();
      latencies.push(now() - t);
    }
    const seconds = (now() - started) / 1000;
    return { name: side.name, operations: cycles, operationsPerSecond: round(cycles / seconds, 0), latency: summarize(latencies) };
  } finally {
    await client.close();
  }
}

async function contended(side: Side, workers: number, windowMs: number): Promise<Figure> {
  const clients = await Promise.all(Array.from({ length: workers }, () => side.open()));
  try {
    const latencies: number[] = [];
    const started = now();
    const until = started + windowMs;
    await Promise.all(
      clients.map(async (client) => {
        while (now() < until) {
          const t = now();
          await (await client.acquire())();
          latencies.push(now() - t);
        }
      }),
    );
    const seconds = (now() - started) / 1000;
    return { name: side.name, operations: latencies.length, operationsPerSecond: round(latencies.length / seconds, 0), latency: summarize(latencies) };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function attempt(what: () => Promise<Figure>, name: string): Promise<Figure> {
  try {
    return await what();
  } catch (error) {
    return { name, operations: 0, operationsPerSecond: 0, latency: summarize([]), error: String(error) };
  }
}

/** baton on the driver's factory: a new factory and DistributedLocks per client. */
function batonSide(driver: BackendDriver, server: BackendServer, name: string, use: (locks: DistributedLocks) => Acquirer): Side {
  return {
    name,
    async open() {
      const factory: LockFactoryHandle = await driver.openFactory(server.connectInfo(), { timings: DEFAULTS, label: 'primitives' });
      const locks = new DistributedLocks({ lockFor: (n, id) => factory.lock(n, id) });
      return {
        acquire: use(locks),
        async close() {
          locks.close();
          await factory.close();
        },
      };
    },
  };
}

export interface PrimitiveResults {
  semaphore?: { permits: number; workers: number; uncontended: Figure[]; contended: Figure[]; ratios: Record<string, number> };
  readWrite: Array<{ backend: string; figures: Figure[]; ratios: Record<string, number> }>;
}

/** Semaphore figures on Redis: baton against redis-semaphore, same server. */
export async function measureSemaphores(driver: BackendDriver, server: BackendServer, runId: string, options: PrimitiveOptions): Promise<NonNullable<PrimitiveResults['semaphore']>> {
  const { permits, workers } = options;
  const key = (tag: string): string => `prims-${runId}-${tag}`;
  const baton = (tag: string): Side =>
    batonSide(driver, server, 'baton semaphore (@baton/lock-redis)', (locks) => async () => {
      const permit = await locks.semaphore(key(tag), { permits }).acquire();
      return () => permit.release();
    });
  const peer = (tag: string): Side => ({
    name: 'redis-semaphore 5.8.0 (Semaphore)',
    async open() {
      const info = server.connectInfo();
      const client = new Redis({ host: String(info.host), port: Number(info.port), connectionName: 'peer-primitives' });
      client.on('error', () => {});
      const { Semaphore } = require('redis-semaphore') as typeof import('redis-semaphore');
      return {
        async acquire() {
          const semaphore = new Semaphore(client, key(tag), permits, { acquireTimeout: 60_000 });
          await semaphore.acquire();
          return () => semaphore.release();
        },
        close: async () => void (await client.quit().catch(() => client.disconnect())),
      };
    },
  });
  const uncontended = [await attempt(() => sequential(baton('u0'), options.cycles), 'baton'), await attempt(() => sequential(peer('u1'), options.cycles), 'peer')];
  const contendedFigures = [
    await attempt(() => contended(baton('c0'), workers, options.windowMs), 'baton'),
    await attempt(() => contended(peer('c1'), workers, options.windowMs), 'peer'),
  ];
  return {
    permits,
    workers,
    uncontended,
    contended: contendedFigures,
    ratios: {
      uncontendedOpsBatonOverPeer: ratio(uncontended[0]!.operationsPerSecond, uncontended[1]!.operationsPerSecond),
      uncontendedP50BatonOverPeer: ratio(uncontended[0]!.latency.p50, uncontended[1]!.latency.p50),
      contendedOpsBatonOverPeer: ratio(contendedFigures[0]!.operationsPerSecond, contendedFigures[1]!.operationsPerSecond),
    },
  };
}

/** Read, write and mutex acquire+release from one caller on one backend. */
export async function measureReadWrite(driver: BackendDriver, server: BackendServer, runId: string, options: PrimitiveOptions): Promise<PrimitiveResults['readWrite'][number]> {
  const name = (tag: string): string => `prims-${runId}-${tag}`;
  const sides: Side[] = [
    batonSide(driver, server, 'mutex', (locks) => async () => {
      const held = await locks.get(name('m')).acquire();
      return () => held.release();
    }),
    batonSide(driver, server, 'read', (locks) => async () => {
      const held = await locks.readWrite(name('rw')).acquireRead();
      return () => held.release();
    }),
    batonSide(driver, server, 'write', (locks) => async () => {
      const held = await locks.readWrite(name('rw')).acquireWrite();
      return () => held.release();
    }),
  ];
  const figures: Figure[] = [];
  for (const side of sides) figures.push(await attempt(() => sequential(side, options.cycles), side.name));
  const [mutex, read, write] = figures;
  return {
    backend: driver.name,
    figures,
    ratios: {
      readOpsOverMutex: ratio(read!.operationsPerSecond, mutex!.operationsPerSecond),
      writeOpsOverMutex: ratio(write!.operationsPerSecond, mutex!.operationsPerSecond),
    },
  };
}

function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 2) : Number.NaN;
}
