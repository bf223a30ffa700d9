import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { ChildCandidate, checkTerms } from './support/child-candidate.ts';
import type { Term } from './support/child-candidate.ts';
import { EtcdCluster } from '@baton/testkit';
import type { EtcdMember } from '@baton/testkit';
import { testPrefixes } from './support/env.ts';

// A three-member etcd cluster on loopback ports and three candidate PROCESSES, each connected
// to a different member, with session-bound records. Members are killed and restarted —
// the raft leader among them — and candidates are killed or stopped, while the lock changes
// hands. Every term each process reports is checked: never two leaders at once, tokens
// strictly increasing. The failover time of each fault is printed.

const TIMINGS = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
// A session TTL the holder survives a raft election with: it declares the session lost when no
// keep-alive sent in the last 2/3 TTL was answered, and an election here takes up to ~1 s.
const SESSION_TTL = '4s';
/** Bound on one fault's recovery: an expiry, a raft election and a member restart, with slack for a loaded machine. */
const RECOVERY_MS = 15_000;
const now = (): number => performance.timeOrigin + performance.now();

let cluster: EtcdCluster;
const candidates: ChildCandidate[] = [];
const figures: string[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start(3);
  const prefixes = testPrefixes();
  for (const [i, member] of cluster.members.entries()) {
    candidates.push(new ChildCandidate({ hosts: [member.url], ...prefixes, name: 'cluster', identity: `c${i}`, ...TIMINGS, sessionTtl: SESSION_TTL }));
  }
  await Promise.all(candidates.map((c) => c.start()));
}, 30_000);

afterAll(async () => {
  await Promise.all(candidates.map((c) => c.kill('SIGTERM')));
  await cluster.stop();
  console.log(`cluster figures:\n  ${figures.join('\n  ')}`);
});

/** The one candidate leading now, once exactly one does. */
async function stableLeader(what: string): Promise<{ candidate: ChildCandidate; term: Term }> {
  let found: ChildCandidate | undefined;
  await waitFor(() => {
    const leading = candidates.filter((c) => c.leading !== undefined);
    found = leading.length === 1 ? leading[0] : undefined;
    return found !== undefined;
  }, RECOVERY_MS, what);
  return { candidate: found!, term: found!.leading! };
}

/** Waits for a term that started after `since` and returns how long after `since` it started. */
async function nextTerm(since: number, what: string): Promise<{ term: Term; afterMs: number }> {
  let term: Term | undefined;
  await waitFor(() => {
    term = candidates.flatMap((c) => c.terms).find((t) => t.start > since && t.end === undefined);
    return term !== undefined;
  }, RECOVERY_MS, what);
  return { term: term!, afterMs: term!.start - since };
}

const memberOf = (candidate: ChildCandidate): EtcdMember => cluster.members.find((m) => candidate.config.hosts[0] === m.url)!;

async function raftLeaderOtherThan(killed: EtcdMember): Promise<{ member: EtcdMember; at: number }> {
  let member: EtcdMember | undefined;
  await waitFor(async () => {
    member = await cluster.leader().catch(() => undefined);
    return member !== undefined && member !== killed;
  }, RECOVERY_MS, 'a new raft leader');
  return { member: member!, at: now() };
}

test('three members, candidates on different members: kills of members (the raft leader too) and of leaders never make two leaders', async () => {
  const started = performance.now();
  const counts = { memberKills: 0, raftLeaderKills: 0, holderKills: 0, gracefulStops: 0 };

  /** Kills the raft leader; the candidate on it is cut off until the member is back. */
  const killRaftLeader = async (): Promise<void> => {
    const { candidate: holder, term: held } = await stableLeader('a leader before the fault');
    const raftLeader = await cluster.leader();
    const holderCutOff = memberOf(holder) === raftLeader;
    const killedAt = now();
    await raftLeader.kill();
    counts.memberKills++;
    counts.raftLeaderKills++;
    const elected = await raftLeaderOtherThan(raftLeader);
    let baton: string;
    if (holderCutOff) {
      const { term, afterMs } = await nextTerm(killedAt, 'a new lock holder after its member died');
      baton = `the holder ${holder.identity} was on it: ${term.identity} leading ${afterMs.toFixed(0)} ms after the kill`;
    } else {
      // Give the holder a full lease duration on the new raft leader to show whether it kept its term.
      const until = performance.now() + TIMINGS.leaseDurationMs;
      await waitFor(() => held.end !== undefined || performance.now() >= until, 2 * TIMINGS.leaseDurationMs, 'a lease duration');
      if (held.end === undefined) baton = `the holder ${holder.identity} (on ${memberOf(holder).name}) kept its term`;
      else {
        const { term, afterMs } = await nextTerm(killedAt, 'a lock holder again');
        baton = `the holder ${holder.identity} lost its term (${held.endReason}); ${term.identity} leading ${afterMs.toFixed(0)} ms after the kill`;
      }
    }
    figures.push(`raft leader ${raftLeader.name} SIGKILLed: new raft leader ${(elected.at - killedAt).toFixed(0)} ms after; ${baton}`);
    await raftLeader.restart();
  };

  /** Kills the member the lock holder talks to (when it is not the raft leader, a follower member). */
  const killHolderMember = async (): Promise<void> => {
    const { candidate: holder } = await stableLeader('a leader before the fault');
    const member = memberOf(holder);
    const wasRaftLeader = (await cluster.leader()) === member;
    const killedAt = now();
    await member.kill();
    counts.memberKills++;
    if (wasRaftLeader) counts.raftLeaderKills++;
    const { term, afterMs } = await nextTerm(killedAt, 'a new lock holder after the member died');
    figures.push(`member ${member.name} of holder ${holder.identity}${wasRaftLeader ? ' (raft leader)' : ''} SIGKILLed: ${term.identity} leading ${afterMs.toFixed(0)} ms after`);
    await member.restart();
  };

  /** SIGKILLs the lock holder's process: its session lease runs out, and someone takes over. */
  const killHolder = async (): Promise<void> => {
    const { candidate: holder } = await stableLeader('a leader before the fault');
    const killedAt = now();
    await holder.kill('SIGKILL');
    counts.holderKills++;
    const { term, afterMs } = await nextTerm(killedAt, 'a new lock holder after the holder process died');
    figures.push(`holder process ${holder.identity} SIGKILLed: ${term.identity} leading ${afterMs.toFixed(0)} ms after (lease ${TIMINGS.leaseDurationMs} ms, session TTL ${SESSION_TTL})`);
    await holder.start();
  };

  /** Stops the holder gracefully: it releases, and a follower takes over at once. */
  const stopHolder = async (): Promise<void> => {
    const { candidate: holder } = await stableLeader('a leader before the fault');
    const stoppedAt = now();
    await holder.kill('SIGTERM');
    counts.gracefulStops++;
    const { term, afterMs } = await nextTerm(stoppedAt, 'a new lock holder after the release');
    figures.push(`holder ${holder.identity} stopped (SIGTERM, release): ${term.identity} leading ${afterMs.toFixed(0)} ms after`);
    await holder.start();
  };

  for (const fault of [killRaftLeader, killHolderMember, killHolder, stopHolder, killRaftLeader, killHolderMember]) await fault();
  await stableLeader('a leader at the end');

  const terms = candidates.flatMap((c) => c.terms);
  figures.push(
    `${counts.memberKills} member kills (${counts.raftLeaderKills} of the raft leader), ${counts.holderKills} holder kills, ${counts.gracefulStops} graceful stops; ` +
      `${terms.length} terms by ${new Set(terms.map((t) => t.identity)).size} candidates in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const t0 = Math.min(...terms.map((t) => t.start));
  for (const t of [...terms].sort((a, b) => a.start - b.start)) {
    figures.push(`term ${t.identity} token ${t.token}: ${(t.start - t0).toFixed(0)} → ${t.end === undefined ? 'open' : (t.end - t0).toFixed(0)} ms (${t.endReason ?? ''})`);
  }
  expect(checkTerms(candidates)).toEqual([]);
  expect(counts.raftLeaderKills).toBeGreaterThanOrEqual(2);
  expect(terms.length).toBeGreaterThanOrEqual(5);
}, 90_000);
