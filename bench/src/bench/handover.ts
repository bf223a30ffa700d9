import { JITTER_FACTOR } from '@baton/core';
import type { LeaseTimings } from '@baton/core';
import { sleep } from '../lib/clock.ts';
import { Prng } from '../lib/prng.ts';
import { summarize } from '../lib/stats.ts';
import type { Summary } from '../lib/stats.ts';
import { BenchElector, DEFAULTS, closeAll, openFactories, within } from './common.ts';
import type { BenchContext } from './common.ts';

export interface HandoverResult {
  timings: LeaseTimings;
  /** Release write sent by the leader → the follower's onStartedLeading, ms. */
  watch: Summary;
  /** The same elector with `watch: false` (client-go's polling). */
  poll: Summary;
  /** Release answered → onStartedLeading (watch mode): what is left after the leader's own write. */
  watchAfterReleaseAck: Summary;
  lanes: { watch: number; poll: number };
  raw: { watch: number[]; poll: number[] };
}

/**
 * Graceful handover: a leader stops (releaseOnCancel) and a follower, watching or polling,
 * takes over. Each handover uses a fresh follower that has observed the leader; the two
 * electors sit on separate factories (separate connections), as separate processes would.
 * Polling handovers run in parallel lanes (different lock names) because each waits for a
 * retry tick of about 2 s; watch handovers run one at a time.
 */
export async function measureHandover(ctx: BenchContext, options: { samples: number; pollLanes: number; timings?: LeaseTimings }): Promise<HandoverResult> {
  const timings = options.timings ?? DEFAULTS;
  const prng = new Prng(0x5eed);
  const watch = await lanes(ctx, 'w', timings, true, 1, options.samples, prng);
  const poll = await lanes(ctx, 'p', timings, false, options.pollLanes, options.samples, prng);
  return {
    timings,
    watch: summarize(watch.map((s) => s.fromSent)),
    poll: summarize(poll.map((s) => s.fromSent)),
    watchAfterReleaseAck: summarize(watch.map((s) => s.fromDone)),
    lanes: { watch: 1, poll: options.pollLanes },
    raw: { watch: watch.map((s) => s.fromSent), poll: poll.map((s) => s.fromSent) },
  };
}

interface Sample {
  fromSent: number;
  fromDone: number;
}

async function lanes(ctx: BenchContext, tag: string, timings: LeaseTimings, watch: boolean, count: number, samples: number, prng: Prng): Promise<Sample[]> {
  const perLane = Math.ceil(samples / count);
  const results = await Promise.all(Array.from({ length: count }, (_, lane) => runLane(ctx, `${tag}${lane}`, timings, watch, perLane, prng)));
  return results.flat().slice(0, samples);
}

async function runLane(ctx: BenchContext, lane: string, timings: LeaseTimings, watch: boolean, samples: number, prng: Prng): Promise<Sample[]> {
  const name = `handover-${lane}-${ctx.runId}`;
  const factories = await openFactories(ctx, 2, timings, (i) => `h${lane}${i}`);
  const out: Sample[] = [];
  let serial = 0;
  const make = (): BenchElector => new BenchElector(factories[serial % 2]!.lock(name, `${lane}-${serial++}`), { timings, watch }).run();
  let leader = make();
  try {
    await within(leader.started, 30_000, `first leader on ${name}`);
    const retryMax = timings.retryPeriodMs * (1 + JITTER_FACTOR);
    for (let i = 0; i < samples; i++) {
      const follower = make();
      await within(follower.observed(leader.identity), 30_000, `follower observing ${leader.identity}`);
      // Let the watch settle; when polling, release at a random point of the follower's retry cycle.
      await sleep(watch ? 150 + prng.between(0, 100) : 200 + prng.between(0, retryMax));
      const stopping = leader.stop();
      const started = await within(follower.started, timings.leaseDurationMs + 10_000, `handover to ${follower.identity}`);
      await stopping;
      const { releaseSentAt, releaseDoneAt } = leader.probe;
      if (releaseSentAt === undefined || releaseDoneAt === undefined) throw new Error(`${leader.identity} did not release its lease`);
      out.push({ fromSent: started.t - releaseSentAt, fromDone: started.t - releaseDoneAt });
      leader = follower;
    }
  } finally {
    await leader.stop().catch(() => {});
    await closeAll(factories);
  }
  return out;
}
