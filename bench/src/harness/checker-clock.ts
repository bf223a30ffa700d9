import type { ClockSample, HistoryEvent } from './history.ts';

/** How the candidates' clocks were put onto the harness clock, as the report states it. */
export interface ClockSummary {
  /** Per candidate pid: its measured offset to the harness clock and the measurement's uncertainty. */
  offsets: Record<number, ClockSample>;
  /** The largest uncertainty of any candidate's offset. */
  maxUncertaintyMs: number;
  /** The floor added for timestamp resolution (the run record's `clockToleranceMs`). */
  floorMs: number;
  /**
   * What two times from different processes may disagree by: two offsets' uncertainties plus
   * the floor. Intervals are compared with this slack, nothing else.
   */
  toleranceMs: number;
  /** Candidates that logged something but never measured their clock (their times are used as recorded). */
  unsynced: number[];
}

/**
 * Moves every candidate's times onto the harness clock using the process's most certain
 * `clock` event.
 * The offset is constant over a run: every process reads the same monotonic clock
 * (`performance.now()`), only the origin it adds differs, so one measurement at start holds.
 */
export function alignClocks(events: readonly HistoryEvent[], floorMs: number): { events: HistoryEvent[]; clock: ClockSummary } {
  // A process may measure again during the run; the offset is constant, so its most certain
  // measurement is the best estimate for all of its events.
  const offsets: Record<number, ClockSample> = {};
  for (const e of events) {
    if (e.src === 'candidate' && e.ev === 'clock' && (offsets[e.pid] === undefined || e.uncertaintyMs < offsets[e.pid]!.uncertaintyMs)) {
      offsets[e.pid] = { offsetMs: e.offsetMs, uncertaintyMs: e.uncertaintyMs, samples: e.samples };
    }
  }
  const unsynced = new Set<number>();
  const aligned = events.map((e): HistoryEvent => {
    if (e.src !== 'candidate') return e;
    const sample = offsets[e.pid];
    if (!sample) {
      unsynced.add(e.pid);
      return e;
    }
    const shifted = { ...e, t: e.t + sample.offsetMs };
    if (shifted.ev === 'write') shifted.sentAt = shifted.sentAt + sample.offsetMs;
    return shifted;
  });
  aligned.sort((a, b) => a.t - b.t);
  const maxUncertaintyMs = Object.values(offsets).reduce((max, s) => Math.max(max, s.uncertaintyMs), 0);
  return {
    events: aligned,
    clock: { offsets, maxUncertaintyMs, floorMs, toleranceMs: 2 * maxUncertaintyMs + floorMs, unsynced: [...unsynced] },
  };
}
