import { LeaderElector } from '@baton/core';
import type { Clock, LeaderElectionRecord, LeaderTerm, ResourceLock } from '@baton/core';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RedisServerProcess } from '@baton/testkit';

/** The shared server every test may use (never restarted by tests). */
export const SHARED = { host: '127.0.0.1', port: 6379 } as const;

/** A record held by `holderIdentity` (lease 1.5 s unless overridden), for the adapter's own tests. */
export const record = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationMs: 1500,
  acquireTime: 1_767_225_600_000,
  renewTime: 1_767_225_600_000,
  leaderTransitions: 0,
  fencingToken: 1,
  ...overrides,
});

/** Elector timings for fault tests (ms). */
export const TIMINGS = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 250 } as const;

/** A key prefix of this test run's own, so runs and tests never share keys. */
export function testPrefix(): string {
  return `baton-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, so it never blocks the server). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** An admin connection for a test to inspect or tamper with the server. */
export function adminClient(port: number = SHARED.port): Redis {
  // disconnectTimeout: ioredis' disconnect() arms a timer (2 s by default) that only the
  // socket's 'close' clears; on a server a test killed, that timer outlived the file and
  // jest had to force its worker to exit. The adapter's own clients use 200 ms likewise.
  return new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 50, 500),
    disconnectTimeout: 100,
  });
}

/** A redis-server of the test's own and an admin connection to it, both ended by `cleanups`. */
export async function dedicatedServer(cleanups: Array<() => Promise<void> | void>): Promise<{ server: RedisServerProcess; admin: Redis }> {
  const server = await RedisServerProcess.start();
  cleanups.push(() => server.stop());
  const admin = adminClient(server.port);
  cleanups.push(() => void admin.disconnect());
  return { server, admin };
}

/** One candidate process: an elector on a lock, with everything it did recorded. */
export interface Candidate {
  readonly identity: string;
  readonly lock: ResourceLock;
  readonly elector: LeaderElector;
  readonly started: Array<{ token: number; at: number }>;
  readonly stopped: number[];
  readonly errors: unknown[];
  readonly terms: LeaderTerm[];
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

/** Runs an elector on `lock`; with a `clock`, on that clock (and the times recorded are its readings). */
export function runCandidate(
  lock: ResourceLock,
  timings: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number } = TIMINGS,
  clock?: Clock,
): Candidate {
  const now = (): number => (clock ? clock.now() : performance.now());
  const started: Candidate['started'] = [];
  const stopped: number[] = [];
  const errors: unknown[] = [];
  const terms: LeaderTerm[] = [];
  const stop = new AbortController();
  const elector = new LeaderElector({
    lock,
    leaseDuration: timings.leaseDurationMs,
    renewDeadline: timings.renewDeadlineMs,
    retryPeriod: timings.retryPeriodMs,
    ...(clock ? { clock } : {}),
    onError: (error) => errors.push(error),
    callbacks: {
      onStartedLeading: (term) => {
        terms.push(term);
        started.push({ token: term.fencingToken, at: now() });
      },
      onStoppedLeading: () => stopped.push(now()),
    },
  });
  const done = elector.run(stop.signal);
  return { identity: lock.identity, lock, elector, started, stopped, errors, terms, stop, done };
}

/** Stops candidates and waits for them to settle. */
export async function stopAll(candidates: Candidate[]): Promise<void> {
  for (const c of candidates) c.stop.abort();
  await Promise.all(candidates.map((c) => c.done));
}

/** Every term of every candidate, in start order: tokens must strictly increase. */
export function tokensInOrder(candidates: Candidate[]): number[] {
  return candidates
    .flatMap((c) => c.started)
    .sort((a, b) => a.at - b.at)
    .map((s) => s.token);
}

/** Measurements a test wants in the run's output (printed once per file). */
export const measured: Record<string, string> = {};
