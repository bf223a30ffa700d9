import type { LeaseTimings } from '@baton/core';
import { ChildHandle } from '../lib/child.ts';
import { now, sleep } from '../lib/clock.ts';
import { Prng } from '../lib/prng.ts';
import { summarize } from '../lib/stats.ts';
import type { Summary } from '../lib/stats.ts';
import type { BenchContext } from './common.ts';

export interface FailoverResult {
  timings: LeaseTimings;
  /** SIGKILL of the leader process → the follower process's onStartedLeading, ms. */
  failover: Summary;
  /** The target that applies: 1000 ms for session-bound backends, else leaseDuration + 250 ms. */
  targetP99Ms: number;
  lanes: number;
  raw: number[];
}

/** Short timings so that a lease-expiry failover takes seconds, not 15 s; the target scales with them. */
export const FAILOVER_TIMINGS: LeaseTimings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

const CANDIDATE = new URL('../harness/candidate.ts', import.meta.url);

/**
 * Crash failover between real processes: a leader process and a follower process (watching)
 * on one lock; the leader is SIGKILLed at a random point of its renewal cycle, and the time
 * until the follower's onStartedLeading is measured. The follower then leads, a new follower
 * is started, and so on. A few lanes (lock names) run side by side.
 */
export async function measureFailover(ctx: BenchContext, options: { samples: number; lanes: number; timings?: LeaseTimings }): Promise<FailoverResult> {
  const timings = options.timings ?? FAILOVER_TIMINGS;
  const prng = new Prng(0xfa11);
  const perLane = Math.ceil(options.samples / options.lanes);
  const results = await Promise.all(
    Array.from({ length: options.lanes }, async (_, lane) => {
      // Stagger the lanes so that one lane's process start-up does not coincide with another's kill.
      await sleep(lane * 700);
      return runLane(ctx, lane, timings, perLane, prng);
    }),
  );
  const raw = results.flat().slice(0, options.samples);
  return {
    timings,
    failover: summarize(raw),
    targetP99Ms: ctx.driver.sessionBound ? 1_000 : timings.leaseDurationMs + 250,
    lanes: options.lanes,
    raw,
  };
}

async function runLane(ctx: BenchContext, lane: number, timings: LeaseTimings, samples: number, prng: Prng): Promise<number[]> {
  const name = `failover-${lane}-${ctx.runId}`;
  let serial = 0;
  const spawn = (): ChildHandle => {
    const identity = `f${lane}-${serial++}`;
    return new ChildHandle(CANDIDATE, {
      label: `failover ${identity}`,
      env: {
        BATON_BACKEND: ctx.driver.name,
        BATON_CONNECT: JSON.stringify(ctx.server.connectInfo()),
        BATON_LOCK: name,
        BATON_IDENTITY: identity,
        BATON_SLOT: String(lane),
        BATON_LABEL: `fo${lane}`,
        BATON_TIMINGS: JSON.stringify(timings),
        BATON_WATCH: '1',
      },
    });
  };
  const identityOf = (child: ChildHandle): string => child.label.slice('failover '.length);
  const out: number[] = [];
  let leader = spawn();
  const children = [leader];
  try {
    await leader.waitFor((e) => e.ev === 'start', 60_000, 'first term', true);
    for (let i = 0; i < samples; i++) {
      const follower = spawn();
      children.push(follower);
      await follower.waitFor((e) => e.ev === 'leader' && e.leader === identityOf(leader), 60_000, 'observing the leader', true);
      // The follower's watch settles; the kill lands at a random point of the renewal cycle.
      await sleep(300 + prng.between(0, timings.retryPeriodMs));
      const started = follower.waitFor((e) => e.ev === 'start', timings.leaseDurationMs * 3 + 10_000, 'taking over');
      const killedAt = now();
      leader.signal('SIGKILL');
      const event = await started;
      out.push(event.t - killedAt);
      await leader.exited;
      leader = follower;
    }
  } finally {
    await Promise.all(children.map((c) => c.terminate(5_000)));
  }
  return out;
}
