import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { DistributedLocks, InvalidRecordError, LeaderElector, LockConflictError, LockLostError } from '@baton/core';
import type { LeaderElectionRecord, LeaderTerm, LockSnapshot, ResourceLock } from '@baton/core';
import { randomBytes } from 'node:crypto';
import { describeFastPathContract } from './fast-path-contract.ts';
import { PartitionableLock } from './partitionable-lock.ts';
import { describeReadWriteContract } from './rw-contract.ts';
import { describeSemaphoreContract } from './semaphore-contract.ts';
import type { ContractTarget } from './target.ts';
import { deferred, waitFor, within } from './wait.ts';

const DEFAULT_TIMINGS = { leaseDurationMs: 1200, renewDeadlineMs: 800, retryPeriodMs: 200 };

/** Identities no backend may mangle: non-ASCII, quotes, separators, and a long one. */
const ODD_IDENTITIES = ['pod-ünïcødé-🚀', 'a "quoted" \'name\' with spaces', 'slash/and\\backslash:colon;semi', 'x'.repeat(1000)];

/**
 * Registers the whole contract suite for one backend: the lock primitives, then electors
 * racing on top of it. Call it at the top level of an adapter's test file.
 */
export function describeResourceLockContract(target: ContractTarget): void {
  const timings = target.timings ?? DEFAULT_TIMINGS;
  const opened: ResourceLock[] = [];
  const stops: AbortController[] = [];
  const runs: Promise<void>[] = [];

  const uniqueName = (): string => `contract-${randomBytes(5).toString('hex')}`;
  const open = async (lockName: string, identity: string): Promise<ResourceLock> => {
    const lock = await target.createLock(lockName, identity);
    opened.push(lock);
    return lock;
  };
  const record = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
    holderIdentity,
    leaseDurationMs: 15_000,
    acquireTime: 1_767_225_600_123,
    renewTime: 1_767_225_601_456,
    leaderTransitions: 0,
    fencingToken: 1,
    ...overrides,
  });

  interface Candidate {
    lock: PartitionableLock;
    elector: LeaderElector;
    terms: LeaderTerm[];
    started: Array<{ token: number; at: number }>;
    stopped: number[];
    errors: unknown[];
    newLeaders: string[];
    stop: AbortController;
    done: Promise<void>;
  }

  /** An elector with the target's timings, its lock wrapped so the test can cut it off. */
  const candidate = async (lockName: string, identity: string, options: { watch?: boolean } = {}): Promise<Candidate> => {
    const lock = new PartitionableLock(await open(lockName, identity));
    const c = { lock, terms: [], started: [], stopped: [], errors: [], newLeaders: [], stop: new AbortController() } as unknown as Candidate;
    c.elector = new LeaderElector({
      lock,
      leaseDuration: timings.leaseDurationMs,
      renewDeadline: timings.renewDeadlineMs,
      retryPeriod: timings.retryPeriodMs,
      watch: options.watch ?? true,
      onError: (error) => c.errors.push(error),
      callbacks: {
        onStartedLeading: (term) => {
          c.terms.push(term);
          c.started.push({ token: term.fencingToken, at: performance.now() });
        },
        onStoppedLeading: () => c.stopped.push(performance.now()),
        onNewLeader: (leader) => c.newLeaders.push(leader),
      },
    });
    stops.push(c.stop);
    c.done = c.elector.run(c.stop.signal);
    runs.push(c.done);
    return c;
  };
  const lockSets: DistributedLocks[] = [];
  /** A DistributedLocks as one process would have it, with the target's timings; `wrap` can interpose on its locks. */
  const locksFor = (identity: string, wrap: (lock: ResourceLock) => ResourceLock = (lock) => lock): DistributedLocks => {
    const locks = new DistributedLocks({
      identity,
      leaseDuration: timings.leaseDurationMs,
      renewDeadline: timings.renewDeadlineMs,
      retryPeriod: timings.retryPeriodMs,
      lockFor: async (name, id) => wrap(await open(name, id)),
    });
    lockSets.push(locks);
    return locks;
  };
  const leaders = (cs: Candidate[]): Candidate[] => cs.filter((c) => c.elector.isLeader());
  /** Generous bound for one election round on a shared, noisy machine. */
  const electionBound = timings.leaseDurationMs + 4 * timings.retryPeriodMs + 2000;

  describe(`ResourceLock contract: ${target.name}`, () => {
    afterEach(async () => {
      for (const locks of lockSets.splice(0)) locks.close();
      for (const stop of stops.splice(0)) stop.abort();
      await Promise.all(runs.splice(0));
      await Promise.all(opened.splice(0).map((lock) => lock.close?.()));
    });
    afterAll(async () => {
      await target.teardown?.();
    });

    describe('lock primitives', () => {
      test('get on a missing lock returns null', async () => {
        const lock = await open(uniqueName(), 'a');
        expect(await lock.get()).toBeNull();
      });

      test('create stores the record and returns it with a version', async () => {
        const lock = await open(uniqueName(), 'a');
        const created = await lock.create(record('a'));
        expect(created.record).toEqual(record('a'));
        expect(typeof created.version).toBe('string');
        const read = await lock.get();
        expect(read?.record).toEqual(record('a'));
        expect(read?.version).toBe(created.version);
      });

      test('create on an existing lock is a LockConflictError and changes nothing', async () => {
        const name = uniqueName();
        const a = await open(name, 'a');
        const b = await open(name, 'b');
        const created = await a.create(record('a'));
        await expect(b.create(record('b', { fencingToken: 2 }))).rejects.toBeInstanceOf(LockConflictError);
        const read = await a.get();
        expect(read?.record.holderIdentity).toBe('a');
        expect(read?.version).toBe(created.version);
      });

      test('update with the current version swaps the record and the version', async () => {
        const lock = await open(uniqueName(), 'a');
        const created = await lock.create(record('a'));
        const renewed = record('a', { renewTime: created.record.renewTime + 2000 });
        const updated = await lock.update(renewed, created.version);
        expect(updated.record).toEqual(renewed);
        expect(updated.version).not.toBe(created.version);
        expect((await lock.get())?.record).toEqual(renewed);
      });

      test('update with a stale version is a LockConflictError and changes nothing', async () => {
        const name = uniqueName();
        const a = await open(name, 'a');
        const b = await open(name, 'b');
        const created = await a.create(record('a'));
        const renewed = await a.update(record('a', { renewTime: created.record.renewTime + 1000 }), created.version);
        const steal = record('b', { leaderTransitions: 1, fencingToken: 2 });
        await expect(b.update(steal, created.version)).rejects.toBeInstanceOf(LockConflictError);
        const read = await b.get();
        expect(read?.record).toEqual(renewed.record);
        expect(read?.version).toBe(renewed.version);
      });

      test('of N concurrent updates from the same version exactly one wins', async () => {
        const name = uniqueName();
        const first = await open(name, 'seed');
        const created = await first.create(record('', { fencingToken: 1 }));
        const contenders = await Promise.all(Array.from({ length: 8 }, (_, i) => open(name, `c${i}`)));
        const results = await Promise.allSettled(
          contenders.map((lock, i) => lock.update(record(`c${i}`, { leaderTransitions: 1, fencingToken: 2 }), created.version)),
        );
        const winners = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<LockSnapshot>[];
        const losers = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        expect(winners).toHaveLength(1);
        for (const loser of losers) expect(loser.reason).toBeInstanceOf(LockConflictError);
        const read = await first.get();
        expect(read?.record.holderIdentity).toBe(winners[0]!.value.record.holderIdentity);
      });

      test('records round-trip exactly: odd identities, large values, a released holder', async () => {
        for (const identity of ODD_IDENTITIES) {
          const lock = await open(uniqueName(), identity);
          const big = record(identity, {
            leaseDurationMs: 3_600_000,
            acquireTime: 4_102_444_800_999,
            renewTime: 4_102_444_801_001,
            leaderTransitions: 2_147_483_000,
            fencingToken: 2 ** 40,
          });
          const created = await lock.create(big);
          expect(created.record).toEqual(big);
          expect((await lock.get())?.record).toEqual(big);
          const released = { ...big, holderIdentity: '' };
          await lock.update(released, created.version);
          expect((await lock.get())?.record).toEqual(released);
        }
      });

      if (target.watch) {
        test('watch reports health and delivers a change within a second', async () => {
          const name = uniqueName();
          const writer = await open(name, 'writer');
          const watcher = await open(name, 'watcher');
          expect(typeof watcher.watch).toBe('function');
          const healthy = deferred();
          const changes: Array<LockSnapshot | null | undefined> = [];
          const changed = deferred();
          const stop = watcher.watch!({
            onChange: (snapshot) => {
              changes.push(snapshot);
              if (snapshot === undefined || snapshot?.record.holderIdentity === 'writer') changed.resolve();
            },
            onHealth: (ok) => ok && healthy.resolve(),
          });
          try {
            await within(healthy.promise, 5000, 'watch to become healthy');
            const started = performance.now();
            const created = await writer.create(record('writer'));
            await within(changed.promise, 1000, 'the watch to deliver the create');
            expect(performance.now() - started).toBeLessThan(1000);
            const delivered = changes.find((s) => s !== undefined && s !== null);
            if (delivered) expect(delivered.record).toEqual(created.record);
          } finally {
            stop();
          }
        });
      }

      describeFastPathContract({ target, uniqueName, open, record });

      test('a corrupt record is an InvalidRecordError, and is never overwritten', async () => {
        const name = uniqueName();
        await target.plantCorruptRecord(name);
        const lock = await open(name, 'a');
        await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
        await expect(lock.create(record('a'))).rejects.toBeTruthy();

        const c = await candidate(name, 'elector');
        await waitFor(() => c.errors.some((e) => e instanceof InvalidRecordError), electionBound, 'the elector to report the corrupt record');
        expect(c.elector.isLeader()).toBe(false);
        expect(c.started).toHaveLength(0);
        await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
      });
    });

    describe('electors on the lock', () => {
      test('exactly one of several candidates leads, and all agree who', async () => {
        const name = uniqueName();
        const cs = await Promise.all(['alpha', 'beta', 'gamma'].map((id) => candidate(name, id)));
        await waitFor(() => leaders(cs).length === 1, electionBound, 'a leader');
        const leader = leaders(cs)[0]!;
        await waitFor(() => cs.every((c) => c.elector.getLeader() === leader.elector.identity), electionBound, 'everyone to see the leader');
        // Stay for a few renewals: still exactly one leader, never a second term.
        const until = performance.now() + 3 * timings.retryPeriodMs;
        await waitFor(() => {
          expect(leaders(cs)).toHaveLength(1);
          return performance.now() >= until;
        }, 10 * timings.retryPeriodMs + 2000, 'a few renewals');
        expect(cs.reduce((n, c) => n + c.started.length, 0)).toBe(1);
        for (const c of cs) expect(c.newLeaders).toContain(leader.elector.identity);
      });

      test('a leader that stops gracefully hands over, with no overlap', async () => {
        const name = uniqueName();
        const first = await candidate(name, 'first');
        await waitFor(() => first.elector.isLeader(), electionBound, 'the first leader');
        const second = await candidate(name, 'second');
        await waitFor(() => second.elector.getLeader() === 'first', electionBound, 'the follower to see the leader');
        const stoppedAt = performance.now();
        first.stop.abort();
        await first.done;
        await waitFor(() => second.elector.isLeader(), electionBound, 'the follower to take over');
        expect(first.terms[0]!.signal.aborted).toBe(true);
        expect(first.stopped[0]!).toBeLessThanOrEqual(second.started[0]!.at);
        expect(second.started[0]!.token).toBeGreaterThan(first.started[0]!.token);
        // Released, not expired: well before a lease duration has passed.
        expect(second.started[0]!.at - stoppedAt).toBeLessThan(timings.leaseDurationMs);
      });

      test('when the leader is cut off, it steps down by renewDeadline and a follower takes over after expiry', async () => {
        const name = uniqueName();
        const first = await candidate(name, 'first');
        await waitFor(() => first.elector.isLeader(), electionBound, 'the first leader');
        const second = await candidate(name, 'second');
        await waitFor(() => second.elector.getLeader() === 'first', electionBound, 'the follower to see the leader');
        const cutAt = performance.now();
        first.lock.cut = true;
        await waitFor(() => second.elector.isLeader(), electionBound + timings.leaseDurationMs, 'the follower to take over');
        expect(first.terms[0]!.signal.aborted).toBe(true);
        expect(first.stopped[0]!).toBeLessThan(second.started[0]!.at);
        // The cut leader gave up within renewDeadline (plus timer slack) of its last renewal.
        expect(first.stopped[0]! - cutAt).toBeLessThan(timings.renewDeadlineMs + 500);
        expect(second.started[0]!.token).toBeGreaterThan(first.started[0]!.token);
      });

      test('fencing tokens strictly increase across terms, including re-acquisition by the same identity', async () => {
        const name = uniqueName();
        const a = await candidate(name, 'a');
        await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
        // a loses its lease while alone (cut off), then comes back and re-acquires it.
        a.lock.cut = true;
        await waitFor(() => !a.elector.isLeader(), electionBound, 'a to step down');
        a.lock.cut = false;
        await waitFor(() => a.started.length === 2, electionBound + timings.leaseDurationMs, 'a to lead again');
        // Then a graceful handover to b.
        const b = await candidate(name, 'b');
        await waitFor(() => b.elector.getLeader() === 'a', electionBound, 'b to see a');
        a.stop.abort();
        await waitFor(() => b.elector.isLeader(), electionBound, 'b to lead');
        const tokens = [...a.started, ...b.started].sort((x, y) => x.at - y.at).map((s) => s.token);
        expect(tokens).toHaveLength(3);
        for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
      });
    });

    describe('distributed locks on the lock', () => {
      test('N workers in separate processes increment a shared counter without atomics, exactly', async () => {
        const name = uniqueName();
        const workers = 4;
        const rounds = 8;
        let counter = 0;
        let inside = 0;
        let maxInside = 0;
        const tokens: number[] = [];
        await Promise.all(
          Array.from({ length: workers }, async (_, w) => {
            const locks = locksFor(`worker-${w}`);
            for (let r = 0; r < rounds; r++) {
              await locks.withLock(name, async (held) => {
                inside++;
                maxInside = Math.max(maxInside, inside);
                tokens.push(held.fencingToken);
                const read = counter;
                await new Promise((resolve) => setImmediate(resolve));
                counter = read + 1;
                inside--;
              }, { timeout: 30_000 });
            }
          }),
        );
        expect(counter).toBe(workers * rounds);
        expect(maxInside).toBe(1);
        for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
      }, 60_000);

      test('a waiter in another process is woken promptly when the holder releases', async () => {
        const name = uniqueName();
        const held = await locksFor('holder').get(name).acquire();
        const waiter = locksFor('waiter').get(name);
        const acquired = waiter.acquire({ timeout: electionBound });
        // Let the waiter read the lock and start waiting before the release.
        await expect(locksFor('probe').get(name).tryAcquire()).resolves.toBeNull();
        const releasedAt = performance.now();
        await held.release();
        const next = await acquired;
        const waitedMs = performance.now() - releasedAt;
        expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
        // With a watch: pushed; without: the fallback re-check, well before the lease would expire.
        expect(waitedMs).toBeLessThan(target.watch ? 500 : 2.2 * timings.retryPeriodMs + 500);
        await next.release();
      });

      test('a holder cut off from the backend sees its signal aborted before anyone else takes the lock', async () => {
        const name = uniqueName();
        const holderLocks: PartitionableLock[] = [];
        const holder = locksFor('holder', (lock) => {
          const cuttable = new PartitionableLock(lock);
          holderLocks.push(cuttable);
          return cuttable;
        });
        const held = await holder.get(name).acquire();
        const lostAt = deferred<number>();
        held.signal.addEventListener('abort', () => lostAt.resolve(performance.now()));
        const waiting = locksFor('waiter').get(name).acquire({ timeout: electionBound + timings.leaseDurationMs });
        for (const lock of holderLocks) lock.cut = true;
        const next = await waiting;
        const takenAt = performance.now();
        expect(held.signal.reason).toBeInstanceOf(LockLostError);
        expect(await within(lostAt.promise, 1, 'the abort')).toBeLessThan(takenAt);
        await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
        expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
        await next.release();
      });
    });

    describeSemaphoreContract({ target, timings, uniqueName, locksFor });
    describeReadWriteContract({ target, timings, uniqueName, locksFor });
  });
}
