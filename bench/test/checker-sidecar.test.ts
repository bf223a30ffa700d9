import { describe, expect, it } from '@jest/globals';
import { checkHistory, expectationFailures } from '../src/harness/checker.ts';
import type { CandidateMode, HistoryEvent, RunInfo } from '../src/harness/history.ts';

// The checker's view of `baton run` candidates and of guarded library leaders, on
// hand-written histories: every clock exact (uncertainty 0), so the tolerance is the 0.5 ms
// floor. Times are ms after T; the run lasts 10 s, faults stop at 6 s.
const T = 1_800_000_000_000;
const RUN: RunInfo = {
  src: 'harness',
  ev: 'run',
  t: T,
  backend: 'test',
  seed: 7,
  candidates: 3,
  leaseDurationMs: 1000,
  renewDeadlineMs: 700,
  retryPeriodMs: 200,
  faultsEndAt: T + 6_000,
  endAt: T + 10_000,
  leaderlessBoundMs: 5_000,
  clockToleranceMs: 0.5,
};

/** Events of one process: its clock (exact), then whatever the test says it did. */
function actor(pid: number, mode: CandidateMode, host?: string) {
  const base = { src: 'candidate' as const, pid, slot: pid, identity: `p${pid}` };
  let seq = 0;
  return {
    clock: (): HistoryEvent => ({ ...base, ev: 'clock', t: T, offsetMs: 0, uncertaintyMs: 0, samples: 0 }),
    start: (at: number, token: number): HistoryEvent => ({ ...base, ev: 'start', t: T + at, token, mode, ...(host ? { host } : {}) }),
    stop: (at: number, token: number): HistoryEvent => ({ ...base, ev: 'stop', t: T + at, token, reason: 'test' }),
    guard: (at: number, token: number): HistoryEvent => ({ ...base, ev: 'guard', t: T + at, token, message: 'lease expired' }),
    /** A write accepted (or refused) by the resource 1 ms after it was sent. */
    write: (at: number, token: number, accepted = true): HistoryEvent[] => {
      const n = ++seq;
      return [
        { ...base, ev: 'send', t: T + at, token, seq: n },
        { src: 'resource', ev: 'write', t: T + at + 1, pid, identity: base.identity, token, seq: n, accepted, highest: 0 },
        { ...base, ev: 'write', t: T + at + 2, token, seq: n, sentAt: T + at, accepted },
      ];
    },
  };
}
const harness = (ev: 'kill' | 'pause' | 'resume', pid: number, at: number): HistoryEvent => ({ src: 'harness', ev, t: T + at, pid, slot: pid });
const spawn = (pid: number, spawnId: string): HistoryEvent => ({ src: 'harness', ev: 'spawn', t: T, pid, slot: pid, identity: `s${pid}`, spawnId });
const kindsOf = (history: HistoryEvent[]): string[] => [...new Set(checkHistory(history).violations.map((v) => v.kind))].sort();

describe('baton run candidates', () => {
  // Baton process 90 runs command 11 (token 1); a library candidate 2 takes over with token 2.
  const command = actor(11, 'sidecar', 's-1');
  const library = actor(2, 'guarded');
  /** The command was killed outright at its last write (1 000 ms); the next leader writes from `nextAt`. */
  const killedCommand = (nextAt: number): HistoryEvent[] => [
    RUN,
    spawn(90, 's-1'),
    command.clock(),
    library.clock(),
    command.start(100, 1),
    ...command.write(500, 1),
    ...command.write(1_000, 1),
    library.start(nextAt, 2),
    ...library.write(nextAt + 10, 2),
  ];

  it('ends a command that left no stop at its last act: the next actor may start after it, not before', () => {
    const ok = checkHistory(killedCommand(1_500));
    expect(ok.violations).toEqual([]);
    expect(ok.summary.terms[0]).toMatchObject({ mode: 'sidecar', endedBy: 'last-act', end: T + 1_002 });
    expect(kindsOf(killedCommand(900))).toContain('dual-leadership');
  });

  it('allows one baton process to restart its command within a term, not two processes to share a token', () => {
    const again = actor(12, 'sidecar', 's-1');
    const other = actor(13, 'sidecar', 's-2');
    const history = (second: ReturnType<typeof actor>): HistoryEvent[] => [
      RUN,
      command.clock(),
      second.clock(),
      command.start(100, 1),
      command.stop(800, 1),
      second.start(900, 1),
      ...second.write(1_000, 1),
    ];
    expect(kindsOf(history(again))).toEqual([]);
    expect(kindsOf(history(other))).toEqual(['duplicate-token']);
  });

  it('sorts handovers by what happened to the command’s baton, with the gap between the two actors’ writes', () => {
    const paused = checkHistory([...killedCommand(1_500), harness('pause', 90, 600), harness('resume', 90, 3_000)]);
    expect(paused.summary.sidecars).toEqual({ commands: 1, handovers: { pause: { count: 1, minGapMs: 510 }, kill: { count: 0, minGapMs: null }, other: { count: 0, minGapMs: null } } });
    const killed = checkHistory([...killedCommand(1_500), harness('kill', 90, 1_200)]);
    expect(killed.summary.sidecars.handovers.kill).toEqual({ count: 1, minGapMs: 510 });
  });

  it('counts a baton run that exited before the end of the run without being killed as a crash', () => {
    const exit: HistoryEvent = { src: 'harness', ev: 'exit', t: T + 4_000, pid: 90, slot: 90, code: 1, signal: null };
    expect(checkHistory([...killedCommand(1_500), exit]).summary.crashes).toHaveLength(1);
    expect(checkHistory([...killedCommand(1_500), harness('kill', 90, 3_900), exit]).summary.crashes).toHaveLength(0);
  });
});

describe('writes after a resumed pause', () => {
  /** Leader 1 (`mode`) is paused from 1 s to 4 s; 2 takes over at 2.1 s; on waking 1 either writes once or its check refuses. */
  function wakesStale(mode: CandidateMode, wakes: 'writes' | 'refused'): HistoryEvent[] {
    const stale = actor(1, mode);
    const next = actor(2, 'guarded');
    return [
      RUN,
      stale.clock(),
      next.clock(),
      stale.start(100, 1),
      ...stale.write(150, 1),
      harness('pause', 1, 1_000),
      next.start(2_100, 2),
      ...next.write(2_150, 2),
      harness('resume', 1, 4_000),
      ...(wakes === 'writes' ? stale.write(4_001, 1, false) : [stale.guard(4_001, 1)]),
      stale.stop(4_005, 1),
    ];
  }

  it('counts a guarded leader’s refused check, and fails the run when a guarded leader wrote', () => {
    const refused = checkHistory(wakesStale('guarded', 'refused'));
    expect(refused.violations).toEqual([]);
    expect(refused.summary.afterResumedPause).toEqual({ guarded: { leaders: 1, sent: 0, refusedByGuard: 1 }, unguarded: { leaders: 0, sent: 0 } });
    const wrote = checkHistory(wakesStale('guarded', 'writes'));
    // The fence refused it (no violation), but the lease check should have stopped it first.
    expect(wrote.violations).toEqual([]);
    expect(wrote.summary.afterResumedPause.guarded.sent).toBe(1);
    expect(expectationFailures(wrote, ['pause'])).toContain('1 write(s) sent by guarded leaders after a resumed pause');
    expect(expectationFailures(refused, ['pause'])).not.toContain('1 write(s) sent by guarded leaders after a resumed pause');
  });

  it('counts the unguarded probe’s writes apart: the fence, not the lease check, stops them', () => {
    const probe = checkHistory(wakesStale('unguarded', 'writes'));
    expect(probe.violations).toEqual([]);
    expect(probe.summary.afterResumedPause.unguarded).toEqual({ leaders: 1, sent: 1 });
    expect(probe.summary.writes.fromResumedStale).toEqual({ accepted: 0, rejected: 1 });
  });
});
