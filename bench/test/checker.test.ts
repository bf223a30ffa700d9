import { describe, expect, it } from '@jest/globals';
import { checkHistory, formatReport } from '../src/harness/checker.ts';
import type { HistoryEvent, RunInfo } from '../src/harness/history.ts';

// Hand-made histories: times in ms from T, a run of 10 s whose faults stop at 6 s.
const T = 1_700_000_000_000;

function run(overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    src: 'harness',
    ev: 'run',
    t: T,
    backend: 'test',
    seed: 1,
    candidates: 2,
    leaseDurationMs: 1000,
    renewDeadlineMs: 700,
    retryPeriodMs: 200,
    faultsEndAt: T + 6_000,
    endAt: T + 10_000,
    leaderlessBoundMs: 2_000,
    clockToleranceMs: 2,
    ...overrides,
  };
}

const c = (pid: number) => ({ src: 'candidate' as const, pid, slot: pid, identity: `c${pid}` });
const start = (pid: number, at: number, token: number): HistoryEvent => ({ ...c(pid), ev: 'start', t: T + at, token });
const stop = (pid: number, at: number, token: number): HistoryEvent => ({ ...c(pid), ev: 'stop', t: T + at, token, reason: 'test' });
const write = (pid: number, at: number, token: number, accepted: boolean, highest = 0): HistoryEvent => ({
  src: 'resource',
  ev: 'write',
  t: T + at,
  pid,
  identity: `c${pid}`,
  token,
  seq: at,
  accepted,
  highest,
});
const harness = (ev: 'kill' | 'pause' | 'resume', pid: number, at: number): HistoryEvent => ({ src: 'harness', ev, t: T + at, pid, slot: pid });

/** Leader 1 from 0.1 s to 5 s, leader 2 from 6 s to the end; writes from both. */
function cleanHandover(): HistoryEvent[] {
  return [run(), start(1, 100, 1), write(1, 200, 1, true), write(1, 4_900, 1, true, 1), stop(1, 5_000, 1), start(2, 6_000, 2), write(2, 6_100, 2, true, 1)];
}

describe('checkHistory', () => {
  it('passes a clean handover and summarises it', () => {
    const result = checkHistory(cleanHandover());
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.summary.terms.map((t) => [t.pid, t.token, t.endedBy])).toEqual([
      [1, 1, 'stop'],
      [2, 2, 'run-end'],
    ]);
    expect(result.summary.writes).toMatchObject({ accepted: 3, rejected: 0 });
    expect(result.summary.longestGap?.ms).toBeCloseTo(1_000);
    expect(formatReport(result)).toContain('verdict: OK');
  });

  it('fails when nobody leads for longer than the bound after the faults stopped', () => {
    const history = [run(), start(1, 100, 1), stop(1, 6_500, 1), start(2, 9_000, 2)];
    const result = checkHistory(history);
    expect(result.ok).toBe(false);
    expect(result.violations.map((v) => v.kind)).toEqual(['leaderless-too-long']);
    expect(result.summary.longestGapAfterFaults?.ms).toBeCloseTo(2_500);
  });

  it('does not apply the bound to gaps while faults are still being injected', () => {
    const history = [run(), start(1, 100, 1), stop(1, 1_000, 1), start(2, 5_500, 2)];
    const result = checkHistory(history);
    expect(result.ok).toBe(true);
    expect(result.summary.longestGap?.ms).toBeCloseTo(4_500);
    expect(result.summary.longestGapAfterFaults).toBeNull();
  });

  it('fails when no term covers the end of the run', () => {
    const result = checkHistory([run(), start(1, 100, 1), stop(1, 5_000, 1)]);
    expect(result.violations.map((v) => v.kind)).toEqual(['leaderless-too-long']);
  });

  it('accepts overlapping beliefs with increasing tokens when the stale leader is fenced off', () => {
    // pid 1 is paused while leading; pid 2 takes over; pid 1 wakes up, writes once (rejected), then stops.
    const history = [
      run(),
      start(1, 100, 1),
      write(1, 150, 1, true),
      harness('pause', 1, 1_000),
      start(2, 2_100, 2),
      write(2, 2_150, 2, true, 1),
      harness('resume', 1, 4_000),
      write(1, 4_001, 1, false, 2),
      stop(1, 4_002, 1),
    ];
    const result = checkHistory(history);
    expect(result.violations).toEqual([]);
    expect(result.summary.overlappingTerms).toBe(1);
    expect(result.summary.writes.rejected).toBe(1);
    expect(result.summary.terms[0]!.pausedMs).toBeCloseTo(3_000);
    // The paused stretch does not count as leadership: the gap is 1.0 s → 2.1 s.
    expect(result.summary.longestGap?.ms).toBeCloseTo(1_100);
  });

  it('counts a superseded leader write that arrived before its successor wrote (allowed, reported)', () => {
    const history = [run(), start(1, 100, 1), start(2, 2_000, 2), write(1, 2_050, 1, true), stop(1, 2_060, 1), write(2, 2_100, 2, true, 1)];
    const result = checkHistory(history);
    expect(result.ok).toBe(true);
    expect(result.summary.writes.acceptedWhileSuperseded).toBe(1);
  });

  it('fails on two leaders at once with the same token', () => {
    const history = [run(), start(1, 100, 5), start(2, 3_000, 5), stop(1, 4_000, 5)];
    const result = checkHistory(history);
    expect(result.ok).toBe(false);
    expect(result.violations.map((v) => v.kind)).toEqual(['dual-leadership']);
    expect(result.violations[0]!.message).toContain('the same');
  });

  it('fails on two leaders at once when the later one has a lower token', () => {
    const history = [run(), start(1, 100, 5), start(2, 3_000, 4), stop(1, 4_000, 5)];
    const result = checkHistory(history);
    expect(result.violations.map((v) => v.kind)).toEqual(['dual-leadership']);
    expect(result.violations[0]!.message).toContain('lower');
  });

  it('ignores an overlap within the clock tolerance', () => {
    // Timestamps of two processes may disagree by a fraction of a millisecond.
    const history = [run(), start(1, 100, 1), stop(1, 3_001, 1), start(2, 3_000, 2)];
    const result = checkHistory(history);
    expect(result.violations).toEqual([]);
    expect(result.summary.overlappingTerms).toBe(0);
  });

  it('fails when a later term does not get a larger token, even without overlap', () => {
    expect(checkHistory([run(), start(1, 100, 3), stop(1, 1_000, 3), start(2, 2_000, 3)]).violations.map((v) => v.kind)).toEqual(['duplicate-token']);
    expect(checkHistory([run(), start(1, 100, 3), stop(1, 1_000, 3), start(2, 2_000, 2)]).violations.map((v) => v.kind)).toEqual([
      'token-not-increasing',
    ]);
  });

  it('fails when the resource accepted a stale token', () => {
    const history = [...cleanHandover(), write(1, 6_200, 1, true, 2)];
    const result = checkHistory(history);
    expect(result.violations.map((v) => v.kind)).toEqual(['stale-write-accepted']);
  });

  it('fails on an accepted write that no term explains', () => {
    const history = [...cleanHandover(), write(3, 7_000, 9, true, 2)];
    expect(checkHistory(history).violations.map((v) => v.kind)).toEqual(['write-without-term']);
  });

  it('ends a killed leader at the kill, and a term logged just after the kill at its last event', () => {
    const history = [run(), start(1, 100, 1), harness('kill', 1, 3_000), start(2, 4_100, 2)];
    const result = checkHistory(history);
    expect(result.ok).toBe(true);
    expect(result.summary.terms[0]).toMatchObject({ endedBy: 'killed', end: T + 3_000 });
    expect(result.summary.longestGap?.ms).toBeCloseTo(1_100);
  });

  it('counts injected faults by kind and skipped ones apart', () => {
    const fault = (kind: 'kill' | 'pause', at: number, skipped = false): HistoryEvent => ({
      src: 'harness',
      ev: 'fault',
      t: T + at,
      index: at,
      kind,
      phase: 'start',
      ...(skipped ? { skipped } : {}),
    });
    const result = checkHistory([...cleanHandover(), fault('kill', 1), fault('kill', 2), fault('pause', 3), fault('pause', 4, true)]);
    expect(result.summary.faultsByKind).toEqual({ kill: 2, pause: 1 });
    expect(result.summary.faultsSkipped).toBe(1);
  });

  it('reports a history without a run record', () => {
    expect(checkHistory([start(1, 0, 1)]).violations.map((v) => v.kind)).toEqual(['history']);
  });
});
