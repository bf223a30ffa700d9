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

/**
 * How many alternating rounds a measurement is cut into: the sides take turns, round after
 * round, so a change of load on the shared machine falls on all of them alike.
 */
const ROUNDS = 10;

type Opened = Awaited<ReturnType<Side['open']>>;

/** What one side measured so far. */
interface Tally {
  side: Side;
  latencies: number[];
  ms: number;
  error?: string;
}

function figure(t: Tally): Figure {
  const operations = t.latencies.length;
  return {
    name: t.side.name,
    operations,
    operationsPerSecond: t.ms > 0 ? round(operations / (t.ms / 1000), 0) : 0,
    latency: summarize(t.latencies),
    ...(t.error ? { error: t.error } : {}),
  };
}

/** Runs `turn` for every side in every round (sides in turn), then closes what was opened. */
async function alternate(sides: Side[], clientsPerSide: number, turn: (clients: Opened[], tally: Tally) => Promise<void>): Promise<Figure[]> {
  const tallies: Tally[] = sides.map((side) => ({ side, latencies: [], ms: 0 }));
  const opened: Opened[][] = [];
  try {
    for (const tally of tallies) {
      opened.push(
        await Promise.all(Array.from({ length: clientsPerSide }, () => tally.side.open())).catch((error: unknown) => {
          tally.error = String(error);
          return [];
        }),
      );
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, tally] of tallies.entries()) {
        if (tally.error) continue;
        await turn(opened[k]!, tally).catch((error: unknown) => {
          tally.error = String(error);
        });
      }
    }
  } finally {
    await Promise.all(opened.flat().map((client) => client.close().catch(() => {})));
  }
  return tallies.map(figure);
}

/** One caller per side, acquiring and releasing one after another; `cycles` per side in all. */
function sequential(sides: Side[], cycles: number): Promise<Figure[]> {
  const perRound = Math.max(1, Math.round(cycles / ROUNDS));
  return alternate(sides, 1, async ([client], tally) => {
    for (let i = 0; i < Math.max(2, perRound / 10); i++) await (await client!.acquire())(); // warm
    const started = now();
    for (let i = 0; i < perRound; i++) {
      const t = now();
      await (await client!.acquire())();
      tally.latencies.push(now() - t);
    }
    tally.ms += now() - started;
  });
}

/** `workers` callers per side, each with its own client, all acquiring and releasing for `windowMs` per side in all. */
function contended(sides: Side[], workers: number, windowMs: number): Promise<Figure[]> {
  return alternate(sides, workers, async (clients, tally) => {
    const started = now();
    const until = started + windowMs / ROUNDS;
    await Promise.all(
      clients.map(async (client) => {
        while (now() < until) {
          const t = now();
          await (await client.acquire())();
          tally.latencies.push(now() - t);
        }
      }),
    );
    tally.ms += now() - started;
  });
}

/**
 * baton on the driver's factory: a new factory and DistributedLocks per client. `native`:
 * with the factory's native semaphores and reader-writer locks when it has them; otherwise
 * built from its locks (slot records).
 */
function batonSide(driver: BackendDriver, server: BackendServer, name: string, use: (locks: DistributedLocks) => Acquirer, native = true): Side {
  return {
    name,
    async open() {
      const factory: LockFactoryHandle = await driver.openFactory(server.connectInfo(), { timings: DEFAULTS, label: 'primitives' });
      const primitives = native ? factory.primitives : undefined;
      const locks = new DistributedLocks({ factory: { lock: (n, id) => factory.lock(n, id), close: () => factory.close(), primitives } });
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

/** baton's semaphore `name` on the driver's factory: native, or built from slot records. */
function semaphoreSide(driver: BackendDriver, server: BackendServer, name: string, permits: number, native: boolean): Side {
  const label = `baton semaphore (@baton/lock-${driver.name}, ${native ? 'native' : 'slot records'})`;
  return batonSide(
    driver,
    server,
    label,
    (locks) => async () => {
      const permit = await locks.semaphore(name, { permits }).acquire();
      return () => permit.release();
    },
    native,
  );
}

export interface PrimitiveResults {
  semaphore?: { permits: number; workers: number; uncontended: Figure[]; contended: Figure[]; ratios: Record<string, number> };
  /** The native semaphore against the slot records on PostgreSQL (no peer there). */
  postgresSemaphore?: { permits: number; workers: number; uncontended: Figure[]; contended: Figure[]; ratios: Record<string, number> };
  readWrite: Array<{ backend: string; figures: Figure[]; ratios: Record<string, number> }>;
}

/** Semaphore figures on Redis: baton against redis-semaphore, same server. */
export async function measureSemaphores(driver: BackendDriver, server: BackendServer, runId: string, options: PrimitiveOptions): Promise<NonNullable<PrimitiveResults['semaphore']>> {
  const { permits, workers } = options;
  const key = (tag: string): string => `prims-${runId}-${tag}`;
  const baton = (tag: string, native = true): Side => semaphoreSide(driver, server, key(tag), permits, native);
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
  // Native and peer (the figures compared), and baton's slot records for reference, taking turns.
  const uncontended = await sequential([baton('u0'), peer('u1'), baton('u2', false)], options.cycles);
  const contendedFigures = await contended([baton('c0'), peer('c1'), baton('c2', false)], workers, options.windowMs);
  return {
    permits,
    workers,
    uncontended,
    contended: contendedFigures,
    ratios: {
      uncontendedOpsBatonOverPeer: ratio(uncontended[0]!.operationsPerSecond, uncontended[1]!.operationsPerSecond),
      uncontendedP50BatonOverPeer: ratio(uncontended[0]!.latency.p50, uncontended[1]!.latency.p50),
      contendedOpsBatonOverPeer: ratio(contendedFigures[0]!.operationsPerSecond, contendedFigures[1]!.operationsPerSecond),
      contendedP99BatonOverPeer: ratio(contendedFigures[0]!.latency.p99, contendedFigures[1]!.latency.p99),
      uncontendedOpsSlotsOverPeer: ratio(uncontended[2]!.operationsPerSecond, uncontended[1]!.operationsPerSecond),
      contendedOpsSlotsOverPeer: ratio(contendedFigures[2]!.operationsPerSecond, contendedFigures[1]!.operationsPerSecond),
    },
  };
}

/** The native semaphore against baton's slot records on one backend (PostgreSQL: advisory-lock slots in one statement). */
export async function measureNativeSemaphore(driver: BackendDriver, server: BackendServer, runId: string, options: PrimitiveOptions): Promise<NonNullable<PrimitiveResults['postgresSemaphore']>> {
  const { permits, workers } = options;
  const side = (tag: string, native: boolean): Side => semaphoreSide(driver, server, `prims-${runId}-${tag}`, permits, native);
  const uncontended = await sequential([side('pu0', true), side('pu1', false)], options.cycles);
  const contendedFigures = await contended([side('pc0', true), side('pc1', false)], workers, options.windowMs);
  return {
    permits,
    workers,
    uncontended,
    contended: contendedFigures,
    ratios: {
      uncontendedOpsNativeOverSlots: ratio(uncontended[0]!.operationsPerSecond, uncontended[1]!.operationsPerSecond),
      contendedOpsNativeOverSlots: ratio(contendedFigures[0]!.operationsPerSecond, contendedFigures[1]!.operationsPerSecond),
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
  const figures = await sequential(sides, options.cycles);
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
