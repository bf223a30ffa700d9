import type { LeaseTimings } from '@baton/core';
import { Prng } from '../lib/prng.ts';
import type { FaultKind } from './history.ts';

/** One fault of the schedule. Times are ms from the start of the fault phase. */
export interface PlannedFault {
  index: number;
  at: number;
  kind: FaultKind;
  /** Who it hits (backend-restart hits the backend). */
  target: 'leader' | 'follower' | 'backend';
  /** How long it lasts: the pause, the cut, the outage; for kill, until the replacement is started. */
  durationMs: number;
  /** proxy-delay only: the added one-way latency. */
  delayMs?: number;
}

export interface ScheduleOptions {
  seed: number;
  kinds: readonly FaultKind[];
  timings: LeaseTimings;
  /**
   * Scales the calm between one fault's end and the next fault (0.1–1.5 × the lease at 1,
   * the default): below 1 faults come denser and compound more often.
   */
  calm?: number;
}

/**
 * The fault schedule as an endless stream drawn from the seed: the same seed and options give
 * the same faults in the same order. The first faults go through every enabled kind once (in
 * a seeded order), so even a short run injects each kind; then kinds are drawn at random.
 * Which process "the leader" is at the moment of a fault depends on the run; the history
 * records who was hit. The run decides where the stream ends: after a fault phase
 * ({@link endsPhase}) or once enough faults were injected (a skipped one does not count).
 */
export function* faultStream(options: ScheduleOptions): Generator<PlannedFault, never> {
  const prng = new Prng(options.seed);
  const { leaseDurationMs: L, renewDeadlineMs: R } = options.timings;
  const firstRound = prng.shuffle(options.kinds);
  let at = prng.between(0.2, 0.6) * L;
  for (let index = 0; ; index++) {
    const kind = index < firstRound.length ? firstRound[index]! : prng.pick(options.kinds);
    const target: PlannedFault['target'] = kind === 'backend-restart' ? 'backend' : prng.chance(0.8) ? 'leader' : 'follower';
    let durationMs: number;
    let delayMs: number | undefined;
    switch (kind) {
      case 'kill':
        durationMs = prng.between(0.1, 1) * L;
        break;
      case 'pause':
        // Longer than the lease: others must take over, and the paused leader wakes up stale.
        durationMs = prng.between(1.2, 3) * L;
        break;
      case 'proxy-cut':
      case 'proxy-drop':
        durationMs = prng.between(0.3, 2) * L;
        break;
      case 'proxy-delay':
        durationMs = prng.between(0.5, 2) * L;
        // Sometimes beyond the renew deadline, so that renewals (and acquisitions) arrive late.
        delayMs = Math.round(prng.between(0.05, 1.3) * R);
        break;
      case 'backend-restart':
        durationMs = prng.between(0.1, 1) * L;
        break;
    }
    yield { index, at: Math.round(at), kind, target, durationMs: Math.round(durationMs), ...(delayMs === undefined ? {} : { delayMs }) };
    // The next fault comes after this one healed, sometimes at once (compounding), sometimes after a calm.
    at += durationMs + prng.between(0.1, 1.5) * L * (options.calm ?? 1);
  }
}

/**
 * Whether a fault phase of `phaseMs` ends before `fault`: it would end past the phase and the
 * first round (every enabled kind once) is done.
 */
export function endsPhase(fault: PlannedFault, phaseMs: number, kinds: readonly FaultKind[]): boolean {
  return fault.index >= kinds.length && fault.at + fault.durationMs > phaseMs;
}

/**
 * The faults of a phase of `phaseMs` (no fault starts after it, the last one may end a little
 * later), or the first `count` faults of the stream.
 */
export function planFaults(options: ScheduleOptions & ({ phaseMs: number; count?: undefined } | { count: number; phaseMs?: undefined })): PlannedFault[] {
  const faults: PlannedFault[] = [];
  for (const fault of faultStream(options)) {
    if (options.count !== undefined ? faults.length >= options.count : endsPhase(fault, options.phaseMs, options.kinds)) break;
    faults.push(fault);
  }
  return faults;
}

export function describeFault(f: PlannedFault): string {
  const extra = f.delayMs === undefined ? '' : ` +${f.delayMs} ms latency`;
  return `#${f.index} at ${(f.at / 1000).toFixed(2)} s: ${f.kind} on ${f.target} for ${f.durationMs} ms${extra}`;
}
