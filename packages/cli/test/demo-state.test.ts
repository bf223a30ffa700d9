/**
 * The demo's phase checks are bound to one candidate's term, not to the observer's reading of
 * the lock — which may still show the previous holder after a failover.
 */
import { describe, expect, it } from '@jest/globals';
import type { LockSnapshot } from '@baton/core';
import type { Candidate, CandidateEvent } from '../src/demo/candidate.ts';
import { DemoState } from '../src/demo/state.ts';

/** The two fields of a candidate the state reads; the rest is its process. */
const candidate = (identity: string, running = true): Candidate => ({ identity, running }) as Candidate;

const log = (identity: string, at: number, message: string, fields: Record<string, unknown> = {}): CandidateEvent => ({ identity, at, kind: 'log', message, fields });
const output = (identity: string, at: number, message: string): CandidateEvent => ({ identity, at, kind: 'output', message, fields: {} });

const snapshot = (holderIdentity: string, fencingToken: number, renewTime: number): LockSnapshot =>
  ({
    record: { holderIdentity, fencingToken, renewTime, acquireTime: 0, leaseDurationMs: 1_000, leaderTransitions: fencingToken - 1 },
    version: String(renewTime),
  }) as LockSnapshot;

describe('DemoState', () => {
  it("waits for the new leader's own command, though the observer still reads the crashed leader renewed", () => {
    const state = new DemoState(new AbortController().signal);
    const [c1, c3] = [candidate('candidate-1'), candidate('candidate-3')];
    state.event(log('candidate-3', 100, 'started leading', { fencingToken: 1 }));
    state.event(output('candidate-3', 150, 'candidate-3: working as leader (fencing token 1)'));
    for (const at of [200, 300, 400]) state.lock(snapshot('candidate-3', 1, at));
    expect(state.leaderWorking([c1, c3])?.candidate).toBe(c3);

    // candidate-3 crashed; candidate-1 took over; the observer has not read the lock since.
    const second = { candidate: c1, at: 900, fencingToken: 2 };
    state.event(log('candidate-1', 900, 'started leading', { fencingToken: 2 }));
    expect(state.commandWorking(second)).toBe(false);
    expect(state.renewed(second, 1)).toBe(false);

    // A line of another term does not count; the term's own line does.
    state.event(output('candidate-1', 950, 'candidate-1: working as leader (fencing token 1)'));
    expect(state.commandWorking(second)).toBe(false);
    state.event(output('candidate-1', 980, 'candidate-1: working as leader (fencing token 2)'));
    expect(state.commandWorking(second)).toBe(true);

    // Renewed means: this term's record, read changed (renewed) since the holder changed.
    state.lock(snapshot('candidate-1', 2, 1_000));
    expect(state.renewed(second, 1)).toBe(false);
    state.lock(snapshot('candidate-1', 2, 1_150));
    expect(state.renewed(second, 1)).toBe(true);
  });

  it('a term ends with its "stopped leading", and with its process', () => {
    const state = new DemoState(new AbortController().signal);
    const c2 = candidate('candidate-2');
    const term = { candidate: c2, at: 10, fencingToken: 4 };
    state.event(log('candidate-2', 10, 'started leading', { fencingToken: 4 }));
    state.event(output('candidate-2', 20, 'candidate-2: working as leader (fencing token 4)'));
    expect(state.commandWorking(term)).toBe(true);
    expect(state.commandWorking({ ...term, candidate: candidate('candidate-2', false) })).toBe(false);
    state.event(log('candidate-2', 30, 'stopped leading', { reason: 'elector stopped' }));
    expect(state.commandWorking(term)).toBe(false);
    expect(state.leaderWorking([c2])).toBeUndefined();
  });

  it('one command at a time: by the exit times, the crashed one ending at the crash', () => {
    const state = new DemoState(new AbortController().signal);
    state.event(log('a', 100, 'command started'));
    state.event(log('b', 600, 'command started'));
    state.event(log('b', 800, 'command exited'));
    state.event(log('c', 810, 'command started'));
    expect(state.oneCommandAtATime(500, 'a')).toBe(true);
    // A start before the previous command's exit is an overlap.
    state.event(log('c', 900, 'command exited'));
    state.event(log('a', 850, 'command started'));
    expect(state.oneCommandAtATime(500, 'a')).toBe(false);
  });
});
