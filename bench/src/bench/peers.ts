import { createRequire } from 'node:module';
import { DistributedLocks } from '@baton/core';
import type { ResourceLock } from '@baton/core';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { BackendDriver, LockFactoryHandle } from '../backends/types.ts';
import { now, sleep } from '../lib/clock.ts';
import { round, summarize } from '../lib/stats.ts';
import type { Summary } from '../lib/stats.ts';
import { DEFAULTS } from './common.ts';
import { etcdPeers, probeEtcd } from './peers-etcd.ts';
import { interleavedUncontended } from './interleaved.ts';
import type { RoundTripProbe } from './interleaved.ts';
import type { Contender } from './peer-contender.ts';
import type { BenchContext } from './common.ts';

const require = createRequire(import.meta.url);

export interface PeerFigures {
  name: string;
  settings: string;
  /** One acquire + release, nobody else around, ms. */
  uncontended: Summary;
  /** uncontended p50 ÷ (2 × RTT p50): 1.0 is the floor. */
  uncontendedVsTwoRtt: number;
  /** Release by one worker → acquire returned in the next, 4 workers holding 5 ms each, ms. */
  handover: Summary;
  /** Handovers per second under that contention. */
  handoversPerSecond: number;
  /** Times two workers held the lock at once (must be 0). */
  exclusionViolations: number;
  error?: string;
}

export interface PeersResult {
  backend: 'redis' | 'postgres' | 'etcd';
  /** Raw round trip on the same kind of connection: PING (Redis) / SELECT 1 (PostgreSQL) / a one-key range read (etcd), ms. */
  rtt: Summary;
  workers: number;
  holdMs: number;
  contenders: PeerFigures[];
}

/** A variant of baton's side: its name suffix, its settings, and what it changes on each lock. */
interface BatonVariant {
  label: string;
  settings: string;
  adapt(lock: ResourceLock): ResourceLock;
}

/**
 * PostgreSQL's earlier handover, measured beside the current one: waiters sleep until the
 * release's NOTIFY and then race, instead of waiting at the server (`acquireWhenFree` hidden).
 */
const NOTIFY_WAKE: BatonVariant = {
  label: 'NOTIFY wake-up',
  settings: 'as baton above, but acquireWhenFree hidden: a waiter sleeps until the release NOTIFY, then writes',
  adapt: (lock) => new Proxy(lock, { get: (target, key) => (key === 'acquireWhenFree' ? undefined : Reflect.get(target, key, target)) }),
};

/** baton's DistributedLocks on one factory per worker (separate connections, as separate processes). */
export function batonContender(ctx: BenchContext, driver: BackendDriver, variant?: BatonVariant): Contender {
  const factories: LockFactoryHandle[] = [];
  const sets: DistributedLocks[] = [];
  const adapt = variant?.adapt ?? ((lock: ResourceLock) => lock);
  return {
    name: `baton (@baton/lock-${driver.name}${variant ? `, ${variant.label}` : ''})`,
    settings: variant?.settings ?? 'DistributedLocks, default timings (lease 15 s, renew 10 s, retry 2 s), watch on',
    async worker(index) {
      const factory = await driver.openFactory(ctx.server.connectInfo(), { timings: DEFAULTS, label: `peer${index}` });
      factories.push(factory);
      const locks = new DistributedLocks({ lockFor: (name, id) => adapt(factory.lock(name, id)), identity: `w${index}` });
      sets.push(locks);
      return {
        async acquire(resource) {
          const held = await locks.get(resource).acquire();
          return () => held.release();
        },
        close: async () => locks.close(),
      };
    },
    async close() {
      for (const s of sets) s.close();
      await Promise.all(factories.map((f) => f.close()));
    },
  };
}

export function redisClient(ctx: BenchContext): Redis {
  const info = ctx.server.connectInfo();
  const client = new Redis({ host: String(info.host), port: Number(info.port), connectionName: 'peer' });
  client.on('error', () => {});
  return client;
}

/** Peer clients of a run: `open` makes one, `close` ends every one made so far. */
export interface RedisClients {
  open(): Redis;
  close(): Promise<void>;
}

export function redisClients(ctx: BenchContext): RedisClients {
  const clients: Redis[] = [];
  return {
    open() {
      const c = redisClient(ctx);
      clients.push(c);
      return c;
    },
    close: async () => void (await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())))),
  };
}

function redisPeers(ctx: BenchContext): Contender[] {
  const clients = redisClients(ctx);
  const { open, close: closeClients } = clients;
  // Tuned: a 10 ms retry with unlimited retries, which favours these peers in the contended
  // figure. Defaults (their documentation): retryCount 10, retryDelay 200 ms, retryJitter 200 ms
  // (redlock 4) / 100 ms (@sesamecare-oss/redlock); an acquire that runs out of retries throws,
  // and the worker tries again at once (as a caller must), counted as "gave up".
  const tuned = { retryCount: -1, retryDelay: 10, retryJitter: 5 };
  const redlock4Defaults = { retryCount: 10, retryDelay: 200, retryJitter: 200 };
  const sesameDefaults = { retryCount: 10, retryDelay: 200, retryJitter: 100 };
  const Redlock4 = require('redlock') as typeof import('redlock');
  const { Redlock: Sesame } = require('@sesamecare-oss/redlock') as typeof import('@sesamecare-oss/redlock');
  const redlock4 = (label: string, retry: { retryCount: number; retryDelay: number; retryJitter: number }): Contender => {
    const counter = { gaveUp: 0 };
    return {
      name: `redlock 4.2.0 (${label})`,
      get settings() {
        return `one ioredis client per worker, ttl 10 s, retryDelay ${retry.retryDelay} ms ±${retry.retryJitter}, ${retry.retryCount < 0 ? 'unlimited retries' : `${retry.retryCount} retries (ran out ${counter.gaveUp} times)`}`;
      },
      async worker() {
        const redlock = new Redlock4([open()], retry);
        redlock.on('clientError', () => {});
        return {
          async acquire(resource) {
            const lock = await retryExhausted(() => redlock.lock(resource, 10_000), counter);
            return () => lock.unlock();
          },
          close: async () => {},
        };
      },
      close: closeClients,
    };
  };
  const sesame = (label: string, retry: { retryCount: number; retryDelay: number; retryJitter: number }): Contender => {
    const counter = { gaveUp: 0 };
    return {
      name: `@sesamecare-oss/redlock 1.4.0 (${label})`,
      get settings() {
        return `one ioredis client per worker, duration 10 s, retryDelay ${retry.retryDelay} ms ±${retry.retryJitter}, ${retry.retryCount < 0 ? 'unlimited retries' : `${retry.retryCount} retries (ran out ${counter.gaveUp} times)`}`;
      },
      async worker() {
        const redlock = new Sesame([open()], { ...retry, automaticExtensionThreshold: 500 });
        redlock.on('error', () => {});
        return {
          async acquire(resource) {
            const lock = await retryExhausted(() => redlock.acquire([resource], 10_000), counter);
            return async () => {
              await lock.release();
            };
          },
          close: async () => {},
        };
      },
      close: closeClients,
    };
  };
  return [
    redlock4('tuned', tuned),
    redlock4('defaults', redlock4Defaults),
    sesame('tuned', tuned),
    sesame('defaults', sesameDefaults),
    redisSemaphore(clients),
  ];
}

/** redis-semaphore's Mutex, its defaults but a 60 s acquireTimeout; each worker a client of `clients`. */
export function redisSemaphore(clients: RedisClients): Contender {
  const { Mutex } = require('redis-semaphore') as typeof import('redis-semaphore');
  return {
    name: 'redis-semaphore 5.8.0 (Mutex, defaults)',
    settings: 'one ioredis client per worker, its defaults (lockTimeout 10 s, retryInterval 10 ms, refresh every 8 s) but acquireTimeout 60 s instead of 10 s',
    async worker() {
      const client = clients.open();
      return {
        async acquire(resource) {
          const mutex = new Mutex(client, resource, { acquireTimeout: 60_000 });
          await mutex.acquire();
          return () => mutex.release();
        },
        close: async () => {},
      };
    },
    close: clients.close,
  };
}

/** Runs `acquire` until it succeeds; a peer that ran out of its retries counts once in `counter.gaveUp`. */
async function retryExhausted<T>(acquire: () => Promise<T>, counter: { gaveUp: number }): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await acquire();
    } catch (error) {
      if (attempt >= 100) throw error;
      counter.gaveUp++;
    }
  }
}

function postgresPeers(ctx: BenchContext): Contender[] {
  const url = String(ctx.server.connectInfo().url);
  type CreateMutex = (conString: string) => (name: string) => { lock(): Promise<() => Promise<void>> };
  const mod = require('advisory-lock') as { default: CreateMutex };
  const createMutex = mod.default;
  return [
    {
      name: 'advisory-lock 2.0.0',
      settings: 'a new connection per lock (as the library does): connect, pg_advisory_lock (blocking), pg_advisory_unlock, end',
      async worker() {
        const mutexFor = createMutex(url);
        return {
          async acquire(resource) {
            const unlock = await mutexFor(resource).lock();
            return unlock;
          },
          close: async () => {},
        };
      },
      close: async () => {},
    },
  ];
}

/** A PING on a client of its own. */
export async function probeRedis(ctx: BenchContext): Promise<RoundTripProbe> {
  const client = redisClient(ctx);
  await client.ping();
  return {
    once: async () => void (await client.ping()),
    close: async () => client.disconnect(),
  };
}

/** A `SELECT 1` on a connection of its own. */
export async function probePostgres(ctx: BenchContext): Promise<RoundTripProbe> {
  const client = new pg.Client({ connectionString: String(ctx.server.connectInfo().url), application_name: 'bench-rtt' });
  await client.connect();
  return {
    once: async () => void (await client.query('SELECT 1')),
    close: () => client.end(),
  };
}

/**
 * Handovers run before the contended figure is measured, for every contender alike, as the
 * uncontended figure warms up too: what a worker opens on its first wait (baton's LISTEN,
 * wait-session and subscriber connections, opened lazily so that an idle lock costs
 * nothing) is a once-per-process cost, not a handover's. Counted in, those first handovers
 * (12–60 ms each on PostgreSQL, while connections are set up) were most of baton's p99.
 */
const WARM_UP_HANDOVERS = 20;

/**
 * `workers` loops acquiring one resource, holding it `holdMs`, releasing. A worker that has
 * just released steps back until another worker has taken the lock, so every release is a
 * handover to a worker that was already waiting (otherwise a polling lock is mostly
 * re-taken by the worker that just let it go, and no handover is measured at all).
 * The figure is the gap from the release call to the next holder's acquire returning, over
 * the handovers after the first {@link WARM_UP_HANDOVERS} (see there).
 */
async function contended(contender: Contender, resource: string, workers: number, holdMs: number, handovers: number): Promise<{ gaps: Summary; perSecond: number; violations: number }> {
  const pool = await Promise.all(Array.from({ length: workers }, (_, i) => contender.worker(i)));
  let holder: number | undefined;
  let lastHolder: number | undefined;
  let releasedAt: number | undefined;
  let violations = 0;
  const gaps: number[] = [];
  let done = false;
  let warmUpLeft = WARM_UP_HANDOVERS;
  let stepBack: Array<() => void> = [];
  const wakeAll = (): void => {
    const waiting = stepBack;
    stepBack = [];
    for (const wake of waiting) wake();
  };
  const guard = setTimeout(() => {
    done = true;
    wakeAll();
  }, 120_000);
  let started = now();
  try {
    await Promise.all(
      pool.map(async (worker, index) => {
        while (!done) {
          const release = await worker.acquire(resource);
          const t = now();
          if (holder !== undefined) violations++;
          holder = index;
          if (releasedAt !== undefined && lastHolder !== index) {
            if (warmUpLeft === 0) gaps.push(t - releasedAt);
            else if (--warmUpLeft === 0) started = t; // the last warm-up handover: the clock starts
          }
          wakeAll();
          if (gaps.length >= handovers) done = true;
          await sleep(holdMs);
          holder = undefined;
          lastHolder = index;
          releasedAt = now();
          await release();
          if (!done) await new Promise<void>((resolve) => stepBack.push(resolve));
        }
        wakeAll();
      }),
    );
  } finally {
    clearTimeout(guard);
    await Promise.all(pool.map((w) => w.close()));
  }
  const seconds = (now() - started) / 1000;
  return { gaps: summarize(gaps), perSecond: round(gaps.length / seconds, 1), violations };
}

/**
 * Issue 9: baton's distributed locks against the peers on the same server in one run —
 * uncontended acquire+release (against two raw round trips) and contended handover
 * (4 workers, 5 ms holds).
 */
export async function measurePeers(ctx: BenchContext, options: { cycles: number; handovers: number; rttSamples: number }): Promise<PeersResult> {
  const backend = ctx.driver.name;
  if (backend !== 'redis' && backend !== 'postgres' && backend !== 'etcd') throw new Error(`no peers on ${backend}`);
  const workers = 4;
  const holdMs = 5;
  const probe = backend === 'redis' ? await probeRedis(ctx) : backend === 'etcd' ? await probeEtcd(ctx) : await probePostgres(ctx);
  const peers = backend === 'redis' ? redisPeers(ctx) : backend === 'etcd' ? etcdPeers(ctx) : postgresPeers(ctx);
  const variants = backend === 'postgres' ? [batonContender(ctx, ctx.driver, NOTIFY_WAKE)] : [];
  const contenders = [batonContender(ctx, ctx.driver), ...variants, ...peers];
  ctx.log(`    peers: uncontended, ${contenders.length} contenders and the round trip taking turns`);
  const { rtt, uncontended } = await interleavedUncontended(probe, contenders, (i) => `peer-u${i}-${ctx.runId}`, options.cycles, options.rttSamples);
  const figures: PeerFigures[] = [];
  for (const [i, contender] of contenders.entries()) {
    ctx.log(`    peers: ${contender.name}, contended`);
    const u = uncontended[i]!;
    try {
      if (u instanceof Error) throw u;
      const c = await contended(contender, `peer-c${i}-${ctx.runId}`, workers, holdMs, options.handovers);
      figures.push({
        name: contender.name,
        settings: contender.settings,
        uncontended: u,
        uncontendedVsTwoRtt: round(u.p50 / (2 * rtt.p50), 2),
        handover: c.gaps,
        handoversPerSecond: c.perSecond,
        exclusionViolations: c.violations,
      });
    } catch (error) {
      figures.push({
        name: contender.name,
        settings: contender.settings,
        uncontended: summarize([]),
        uncontendedVsTwoRtt: Number.NaN,
        handover: summarize([]),
        handoversPerSecond: 0,
        exclusionViolations: 0,
        error: String((error as Error)?.message ?? error),
      });
    } finally {
      await contender.close();
    }
  }
  return { backend, rtt, workers, holdMs, contenders: figures };
}
