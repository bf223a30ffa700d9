// Issue 14's throughput figure: acquire+release of many distinct lock names with a fixed
// number in flight from ONE process — operations per second and CPU per operation — for
// baton's DistributedLocks on the run's backend against that backend's peer library, side
// by side in one run. Generic over the backend drivers: baton's side is whatever
// `driver.openFactory` makes; a backend takes part once it has an entry in THROUGHPUT_PEERS.
import { createRequire } from 'node:module';
import { DistributedLocks } from '@baton/core';
import { Redis } from 'ioredis';
import type { BackendName } from '../backends/types.ts';
import { now } from '../lib/clock.ts';
import { processCpuMicros } from '../lib/process-cpu.ts';
import { round, summarize } from '../lib/stats.ts';
import type { Summary } from '../lib/stats.ts';
import { DEFAULTS } from './common.ts';
import type { BenchContext } from './common.ts';

const require = createRequire(import.meta.url);

/** One side of the comparison: opens its client(s) once, then acquires and releases by name. */
export interface ThroughputContender {
  name: string;
  /** How it was configured, for the record. */
  settings: string;
  open(): Promise<ThroughputClient>;
}

export interface ThroughputClient {
  /** Acquires `name` and resolves with the function that releases it. */
  acquire(name: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ThroughputOptions {
  /** Distinct names per round (each acquired and released once per round). */
  names: number;
  /** Acquire+release cycles in flight at once. */
  inFlight: number;
  /** Measured rounds, each on names never used before (after one unmeasured warm-up round). */
  rounds: number;
}

export interface ThroughputFigures {
  name: string;
  settings: string;
  operations: number;
  seconds: number;
  operationsPerSecond: number;
  /** This process's CPU (user + system) per acquire+release, µs. */
  cpuMicrosPerOperation: number;
  /** The backend server's CPU per acquire+release, µs, when this run started the server. */
  serverCpuMicrosPerOperation?: number;
  /** One acquire+release, start to finish, under that load, ms. */
  latency: Summary;
  error?: string;
}

export interface ThroughputResult {
  backend: BackendName;
  names: number;
  inFlight: number;
  rounds: number;
  contenders: ThroughputFigures[];
}

/** baton's distributed locks: one factory (its shared connections) and one DistributedLocks, as an application has. */
function batonContender(ctx: BenchContext): ThroughputContender {
  return {
    name: `baton (@baton/lock-${ctx.driver.name})`,
    settings: 'one factory and one DistributedLocks in the process, default timings (lease 15 s, renew 10 s, retry 2 s), watch on',
    async open() {
      const factory = await ctx.driver.openFactory(ctx.server.connectInfo(), { timings: DEFAULTS, label: 'throughput' });
      const locks = new DistributedLocks({ lockFor: (name, id) => factory.lock(name, id), identity: 'tp' });
      return {
        async acquire(name) {
          const held = await locks.get(name).acquire();
          return () => held.release();
        },
        async close() {
          locks.close();
          await factory.close();
        },
      };
    },
  };
}

/** The peer each backend is measured against; a backend without one is skipped. */
const THROUGHPUT_PEERS: Partial<Record<BackendName, (ctx: BenchContext) => ThroughputContender>> = {
  redis: (ctx) => ({
    name: 'redis-semaphore 5.8.0 (Mutex)',
    settings: 'one ioredis client in the process, a Mutex per acquisition, defaults (lockTimeout 10 s, retryInterval 10 ms)',
    async open() {
      const info = ctx.server.connectInfo();
      const client = new Redis({ host: String(info.host), port: Number(info.port), connectionName: 'peer-throughput' });
      client.on('error', () => {});
      const { Mutex } = require('redis-semaphore') as typeof import('redis-semaphore');
      return {
        async acquire(name) {
          const mutex = new Mutex(client, name, { acquireTimeout: 60_000 });
          await mutex.acquire();
          return () => mutex.release();
        },
        async close() {
          await client.quit().catch(() => client.disconnect());
        },
      };
    },
  }),
  postgres: (ctx) => ({
    name: 'advisory-lock 2.0.0',
    settings: 'a new connection per lock (as the library does): connect, pg_advisory_lock, pg_advisory_unlock, end',
    async open() {
      type CreateMutex = (conString: string) => (name: string) => { lock(): Promise<() => Promise<void>> };
      const createMutex = (require('advisory-lock') as { default: CreateMutex }).default;
      const mutexFor = createMutex(String(ctx.server.connectInfo().url));
      return {
        acquire: (name) => mutexFor(name).lock(),
        close: async () => {},
      };
    },
  }),
};

/** True when the backend has a peer to compare with (the section runs only then). */
export function hasThroughputPeer(backend: BackendName): boolean {
  return THROUGHPUT_PEERS[backend] !== undefined;
}

/** Every name once, `inFlight` at a time; pushes each cycle's latency. */
async function runRound(client: ThroughputClient, names: string[], inFlight: number, latencies: number[] | undefined): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++]!;
      const t = now();
      const release = await client.acquire(name);
      await release();
      latencies?.push(now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, names.length) }, lane));
}

/** One contender in the run: its client once open, its totals, and what failed it. */
interface Side {
  contender: ThroughputContender;
  tag: string;
  client: ThroughputClient | undefined;
  tally: Tally;
  error: unknown;
}

/** One contender's running totals over the rounds it ran. */
interface Tally {
  latencies: number[];
  seconds: number;
  cpuMicros: number;
  serverCpuMicros: number | undefined;
}

/** One measured round of `client`, added to `tally`. */
async function measureRound(ctx: BenchContext, client: ThroughputClient, names: string[], inFlight: number, tally: Tally): Promise<void> {
  const serverBefore = processCpuMicros(ctx.server.pid);
  const cpuBefore = process.cpuUsage();
  const started = now();
  await runRound(client, names, inFlight, tally.latencies);
  tally.seconds += (now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  tally.cpuMicros += cpu.user + cpu.system;
  const serverAfter = processCpuMicros(ctx.server.pid);
  tally.serverCpuMicros =
    serverBefore === undefined || serverAfter === undefined || tally.serverCpuMicros === undefined ? undefined : tally.serverCpuMicros + serverAfter - serverBefore;
}

function figuresOf(contender: ThroughputContender, tally: Tally): ThroughputFigures {
  const operations = tally.latencies.length;
  return {
    name: contender.name,
    settings: contender.settings,
    operations,
    seconds: round(tally.seconds, 2),
    operationsPerSecond: round(operations / tally.seconds, 0),
    cpuMicrosPerOperation: round(tally.cpuMicros / operations, 1),
    ...(tally.serverCpuMicros === undefined ? {} : { serverCpuMicrosPerOperation: round(tally.serverCpuMicros / operations, 1) }),
    latency: summarize(tally.latencies),
  };
}

function failed(contender: ThroughputContender, error: unknown): ThroughputFigures {
  return {
    name: contender.name,
    settings: contender.settings,
    operations: 0,
    seconds: 0,
    operationsPerSecond: 0,
    cpuMicrosPerOperation: Number.NaN,
    latency: summarize([]),
    error: String((error as Error)?.message ?? error),
  };
}

/**
 * Issue 14: throughput of distinct names from one process, baton against the backend's peer,
 * their rounds interleaved on the same server in one run.
 */
export async function measureThroughput(ctx: BenchContext, options: ThroughputOptions): Promise<ThroughputResult> {
  const backend = ctx.driver.name;
  const peer = THROUGHPUT_PEERS[backend];
  if (!peer) throw new Error(`no throughput peer on ${backend}`);
  const contenders = [batonContender(ctx), peer(ctx)];
  // Both open at once and their rounds interleaved — baton, peer, peer, baton, … — so that
  // whatever the machine does meanwhile (a previous section's processes winding down, the
  // server expiring keys) weighs on both alike, not on whichever ran first.
  const sides = await Promise.all(
    contenders.map(async (contender, i): Promise<Side> => {
      const side: Side = { contender, tag: String(i), client: undefined, tally: { latencies: [], seconds: 0, cpuMicros: 0, serverCpuMicros: 0 }, error: undefined };
      try {
        side.client = await contender.open();
      } catch (error) {
        side.error = error;
      }
      return side;
    }),
  );
  const namesOf = (tag: string, r: number): string[] => Array.from({ length: options.names }, (_, i) => `tp-${tag}-${ctx.runId}-${r}-${i}`);
  try {
    for (let r = 0; r <= options.rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        if (side.client === undefined || side.error !== undefined) continue;
        ctx.log(`    throughput: ${side.contender.name}, round ${r}${r === 0 ? ' (warm-up)' : ''}`);
        try {
          if (r === 0) await runRound(side.client, namesOf(side.tag, r), options.inFlight, undefined); // connections, JIT
          else await measureRound(ctx, side.client, namesOf(side.tag, r), options.inFlight, side.tally);
        } catch (error) {
          side.error = error;
        }
      }
    }
  } finally {
    await Promise.all(sides.map((side) => side.client?.close()));
  }
  const figures = sides.map((side) => (side.error !== undefined ? failed(side.contender, side.error) : figuresOf(side.contender, side.tally)));
  return { backend, names: options.names, inFlight: options.inFlight, rounds: options.rounds, contenders: figures };
}
