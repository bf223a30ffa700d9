import { describe, expect, it } from '@jest/globals';
import { FAULT_KINDS } from '../src/harness/history.ts';
import { PROFILES, faultAmount } from '../src/harness/profiles.ts';
import { faultStream, planFaults } from '../src/harness/schedule.ts';
import { Prng } from '../src/lib/prng.ts';
import { percentile, summarize } from '../src/lib/stats.ts';

const timings = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 250 };

describe('Prng (mulberry32)', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws integers within bounds and shuffles without losing items', () => {
    const prng = new Prng(7);
    for (let i = 0; i < 200; i++) {
      const n = prng.int(3, 5);
      expect(n >= 3 && n <= 5).toBe(true);
    }
    expect(prng.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('planFaults', () => {
  it('gives the same schedule for the same seed', () => {
    const options = { seed: 1234, kinds: FAULT_KINDS, phaseMs: 60_000, timings };
    expect(planFaults(options)).toEqual(planFaults(options));
    expect(planFaults({ ...options, seed: 1235 })).not.toEqual(planFaults(options));
  });

  it('injects every enabled kind at least once, even in a short phase', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const schedule = planFaults({ seed, kinds: FAULT_KINDS, phaseMs: 1_000, timings });
      expect(new Set(schedule.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    }
  });

  it('keeps faults sequential, pauses longer than the lease, and only the enabled kinds', () => {
    const schedule = planFaults({ seed: 99, kinds: ['pause', 'proxy-delay'], phaseMs: 120_000, timings });
    expect(schedule.length).toBeGreaterThan(10);
    for (let i = 1; i < schedule.length; i++) {
      const previous = schedule[i - 1]!;
      expect(schedule[i]!.at).toBeGreaterThanOrEqual(previous.at + previous.durationMs);
    }
    for (const f of schedule) {
      expect(['pause', 'proxy-delay']).toContain(f.kind);
      if (f.kind === 'pause') expect(f.durationMs).toBeGreaterThan(timings.leaseDurationMs);
      if (f.kind === 'proxy-delay') expect(f.delayMs).toBeGreaterThan(0);
    }
  });
});

describe('a count of faults instead of a phase', () => {
  it('draws the same faults as a phase does, only ended by the count', () => {
    const options = { seed: 20261202, kinds: FAULT_KINDS, timings };
    const byPhase = planFaults({ ...options, phaseMs: 120_000 });
    const byCount = planFaults({ ...options, count: 250 });
    expect(byCount).toHaveLength(250);
    expect(byCount.slice(0, byPhase.length)).toEqual(byPhase);
    // The stream goes on past the count: a skipped fault is replaced by the next one.
    const stream = faultStream(options);
    const first251 = Array.from({ length: 251 }, () => stream.next().value);
    expect(first251.slice(0, 250)).toEqual(byCount);
    expect(first251[250]!.at).toBeGreaterThanOrEqual(byCount[249]!.at + byCount[249]!.durationMs);
  });

  it('makes the release profile inject 200 faults unless a flag says otherwise, and the CI profile a short phase', () => {
    expect(faultAmount(PROFILES.release, {})).toEqual({ faults: 200 });
    expect(PROFILES.release.minFaults).toBe(200);
    expect(faultAmount(PROFILES.release, { minutes: '2' })).toEqual({ faultPhaseMs: 120_000 });
    expect(faultAmount(PROFILES.ci, {})).toEqual({ faultPhaseMs: 16_000 });
    expect(faultAmount(PROFILES.ci, { faults: '12' })).toEqual({ faults: 12 });
    expect(() => faultAmount(PROFILES.ci, { faults: '12', minutes: '1' })).toThrow(TypeError);
  });
});

describe('summarize', () => {
  it('uses nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(summarize(values)).toMatchObject({ n: 100, min: 1, p50: 50, p99: 99, max: 100, mean: 50.5 });
  });
});
