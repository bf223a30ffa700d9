// The peers section's uncontended figure, measured fairly: every contender, and the raw round
// trip it is compared with, take turns in the same rounds on the same server.
//
// Why rounds: on a small machine one round trip on loopback varies by 2× with what else the
// CPUs did a moment ago (an event loop kept busy answers faster than one that slept), so a
// contender measured alone for a few seconds, before or after another, carries that state in
// its figure. Taking turns — a slice of each per round, the order rotating — puts every
// contender and the round trip under the same conditions, and their ratios mean what they say.
import { now } from '../lib/clock.ts';
import { summarize } from '../lib/stats.ts';
import type { Summary } from '../lib/stats.ts';
import type { Contender, Worker } from './peer-contender.ts';

/** A raw round trip on the kind of connection the contenders use (PING, SELECT 1, a range read). */
export interface RoundTripProbe {
  once(): Promise<void>;
  close(): Promise<void>;
}

/** How many rounds the samples are spread over. */
const ROUNDS = 20;
/** Unmeasured acquire+release cycles (and round trips) per contender before the first round. */
export const WARM_UP = 50;

export interface InterleavedUncontended {
  rtt: Summary;
  /** Per contender, in their order: one acquire + release, ms — or why it could not run. */
  uncontended: Array<Summary | Error>;
}

/**
 * `cycles` acquire+release on one resource per contender (each its own, `resourceOf(i)`) and
 * `rttSamples` raw round trips, spread over {@link ROUNDS} rounds that visit each in turn.
 */
export async function interleavedUncontended(
  probe: RoundTripProbe,
  contenders: readonly Contender[],
  resourceOf: (index: number) => string,
  cycles: number,
  rttSamples: number,
): Promise<InterleavedUncontended> {
  const workers: Array<Worker | Error> = [];
  const samples: number[][] = contenders.map(() => []);
  const rtt: number[] = [];
  try {
    for (let i = 0; i < WARM_UP; i++) await probe.once();
    for (const [i, contender] of contenders.entries()) {
      try {
        const worker = await contender.worker(100);
        workers[i] = worker;
        for (let k = 0; k < Math.min(WARM_UP, cycles); k++) await (await worker.acquire(resourceOf(i)))();
      } catch (error) {
        workers[i] = asError(error);
      }
    }
    const turns = contenders.length + 1;
    for (let round = 0; round < ROUNDS; round++) {
      for (let turn = 0; turn < turns; turn++) {
        const k = (turn + round) % turns; // the order rotates: nobody always goes first
        if (k === contenders.length) {
          for (let s = 0; s < share(rttSamples, round); s++) {
            const t = now();
            await probe.once();
            rtt.push(now() - t);
          }
          continue;
        }
        const worker = workers[k]!;
        if (worker instanceof Error) continue;
        try {
          for (let s = 0; s < share(cycles, round); s++) {
            const t = now();
            const release = await worker.acquire(resourceOf(k));
            await release();
            samples[k]!.push(now() - t);
          }
        } catch (error) {
          workers[k] = asError(error);
          await worker.close().catch(() => {});
        }
      }
    }
  } finally {
    await Promise.all(workers.map((w) => (w instanceof Error ? undefined : w.close().catch(() => {}))));
    await probe.close();
  }
  return { rtt: summarize(rtt), uncontended: workers.map((w, i) => (w instanceof Error ? w : summarize(samples[i]!))) };
}

/** Round `round`'s share of `total`: the rounds add up to `total` exactly. */
function share(total: number, round: number): number {
  return Math.floor((total * (round + 1)) / ROUNDS) - Math.floor((total * round) / ROUNDS);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
