import { describe, expect, test } from '@jest/globals';
import type { Suite } from './suite.ts';
import { stallMeter, waitFor } from './wait.ts';

/** Electors racing on the lock: one leader, graceful and forced handovers, fencing tokens. */
export function describeElectorContract(suite: Suite): void {
  const { target, uniqueName, candidate, leaders, electionBound, timings } = suite;
  const takeoverBoundMs = target.takeoverBoundMs ?? timings.leaseDurationMs;
  if (takeoverBoundMs <= timings.renewDeadlineMs) throw new Error(`${target.name}: takeoverBoundMs ${takeoverBoundMs} must exceed renewDeadlineMs ${timings.renewDeadlineMs}`);
  describe('electors on the lock', () => {
    test('one leader renews for 3 × leaseDuration while watching and polling followers see its renewals, and nobody else ever starts', async () => {
      const name = uniqueName();
      // Two followers on push, two polling: whichever leads, both kinds follow.
      const cs = await Promise.all([
        candidate(name, 'alpha'),
        candidate(name, 'beta'),
        candidate(name, 'gamma', { watch: false }),
        candidate(name, 'delta', { watch: false }),
      ]);
      await waitFor(() => leaders(cs).length === 1, electionBound, 'a leader');
      const leader = leaders(cs)[0]!;
      await waitFor(() => cs.every((c) => c.elector.getLeader() === leader.elector.identity), electionBound, 'everyone to see the leader');
      const seenBefore = cs.map((c) => c.lock.seen.length);
      const windowStart = performance.now();
      // Longer than three leases: followers that ignored renewals would have taken over by now.
      const until = windowStart + 3 * timings.leaseDurationMs;
      await waitFor(() => {
        expect(leaders(cs).map((c) => c.elector.identity)).toEqual([leader.elector.identity]);
        return performance.now() >= until;
      }, 3 * timings.leaseDurationMs + 5000, 'three lease durations');
      expect(cs.reduce((n, c) => n + c.started.length, 0)).toBe(1);
      expect(leader.terms[0]!.signal.aborted).toBe(false);
      for (const c of cs) {
        expect(c.newLeaders).toContain(leader.elector.identity);
        if (c === leader) continue;
        // Each follower saw the record change (renewals) during the window, and never led.
        const renewalsSeen = c.lock.seen.slice(seenBefore[cs.indexOf(c)]).filter((s) => s.holderIdentity === leader.elector.identity);
        expect(renewalsSeen.length).toBeGreaterThanOrEqual(2);
        expect(c.started).toHaveLength(0);
      }
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

    const cutOffCases: Array<{ mode: 'fail' | 'hang'; followerWatches: boolean; title: string }> = [
      { mode: 'fail', followerWatches: true, title: 'calls fail, the follower watches' },
      { mode: 'hang', followerWatches: true, title: 'calls hang until their deadline, the follower watches' },
      { mode: 'fail', followerWatches: false, title: 'calls fail, the follower polls' },
    ];
    for (const { mode, followerWatches, title } of cutOffCases) {
      test(`a leader cut off (${title}) steps down by renewDeadline; the follower takes over no sooner than ${takeoverBoundMs === timings.leaseDurationMs ? 'leaseDuration' : `${takeoverBoundMs} ms`} after the last renewal it saw`, async () => {
        const name = uniqueName();
        const first = await candidate(name, 'first');
        await waitFor(() => first.elector.isLeader(), electionBound, 'the first leader');
        const second = await candidate(name, 'second', { watch: followerWatches });
        await waitFor(() => second.elector.getLeader() === 'first', electionBound, 'the follower to see the leader');
        // Let the follower see at least one renewal.
        const seen = second.lock.seen.length;
        await waitFor(() => second.lock.seen.length > seen, electionBound, 'the follower to see a renewal');
        const cutAt = performance.now();
        const stalls = stallMeter();
        first.lock.partition(mode);
        await waitFor(() => second.elector.isLeader(), electionBound + timings.leaseDurationMs, 'the follower to take over');
        const stalledMs = stalls.stop();
        expect(first.terms[0]!.signal.aborted).toBe(true);
        expect(first.stopped[0]!).toBeLessThan(second.started[0]!.at);
        // The cut leader gave up within renewDeadline (plus timer slack, and however long this
        // process was not scheduled) of its last renewal.
        expect(first.stopped[0]! - cutAt).toBeLessThan(timings.renewDeadlineMs + 500 + stalledMs);
        // The follower waited out the lease (or the backend's own bound) from the last change it saw of first's record —
        // counted from when that renewal was first known: a polling follower reads it up to a retry period late, while
        // the leader had its answer at once.
        const lastRenewalSeen = second.lock.seen.filter((s) => s.holderIdentity === 'first' && s.at < second.started[0]!.at).at(-1)!;
        const writtenAt = first.lock.seen.find((s) => s.version === lastRenewalSeen.version)?.at ?? lastRenewalSeen.at;
        expect(second.started[0]!.at - Math.min(writtenAt, lastRenewalSeen.at)).toBeGreaterThanOrEqual(takeoverBoundMs);
        expect(second.started[0]!.token).toBeGreaterThan(first.started[0]!.token);
      });
    }

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
}
