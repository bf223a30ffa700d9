import type { LeaseTimings } from '@baton/core';
import type { ClientMeter } from '../backends/types.ts';
import { sleep } from '../lib/clock.ts';
import { round } from '../lib/stats.ts';
import { BenchElector, DEFAULTS, closeAll, openFactories, within } from './common.ts';
import type { BenchContext } from './common.ts';

/** Requests per second one side put on the backend, with a breakdown by operation. */
export interface Rate {
  perSecond: number;
  byOp: Record<string, number>;
}

export interface SteadyPhase {
  /** The leader's requests per second. */
  leader: Rate;
  /** All followers together. */
  followers: Rate;
  /** Per follower (followers ÷ count). */
  perFollower: number;
  /** The elector-level calls (get/create/update on the ResourceLock), per second, for comparison. */
  lockCalls: { leader: Record<string, number>; followers: Record<string, number> };
}

export interface SteadyResult {
  timings: LeaseTimings;
  windowMs: number;
  followers: number;
  /** How the requests were counted. */
  source: string;
  /** Leader alone, then with 10 watching followers, then with 10 polling followers. */
  leaderAlone: SteadyPhase;
  watching: SteadyPhase;
  polling: SteadyPhase;
  /** Leader writes per retryPeriod (target: 1). */
  leaderWritesPerRetryPeriod: number;
}

/**
 * Steady load: what one leader and 10 followers put on the backend at the default timings.
 * Counted per client, from the server where it can tell clients apart (the fake apiserver, by
 * user) and otherwise from the client library in this process (every command ioredis sends,
 * every statement pg sends — including what the adapter does behind the ResourceLock: pub/sub
 * keep-alives, PostgreSQL's holder check).
 */
export async function measureSteady(ctx: BenchContext, options: { windowMs: number; followers: number }): Promise<SteadyResult> {
  const timings = DEFAULTS;
  const n = options.followers;
  const name = `steady-${ctx.runId}`;
  // Labels u0 (leader) and u1…uN (followers): kube users bench-0…N, Redis/pg connection names.
  const factories = await openFactories(ctx, n + 1, timings, (i) => `u${i}`);
  const meter: ClientMeter | undefined = ctx.server.requestCounts && ctx.driver.name !== 'redis' && ctx.driver.name !== 'etcd' ? undefined : ctx.driver.meter?.();
  const source = meter ? `client-side: every command the ${ctx.driver.name} client library sent` : 'server-side: fake kube-apiserver request log by user';
  const leader = new BenchElector(factories[0]!.lock(name, 'leader'), { timings, watch: true }).run();
  let followers: BenchElector[] = [];
  try {
    await within(leader.started, 30_000, 'the leader');
    const measure = async (): Promise<SteadyPhase> => {
      await sleep(1_500);
      meter?.reset();
      await ctx.server.resetRequestCounts?.();
      const before = snapshotCalls(leader, followers);
      const started = performance.now();
      await sleep(options.windowMs);
      const seconds = (performance.now() - started) / 1000;
      const after = snapshotCalls(leader, followers);
      const counts = meter ? meter.snapshot() : await ctx.server.requestCounts!();
      const followerRows = followers.map((_, i) => counts[`u${i + 1}`] ?? {});
      const followerRate = rate(sumRows(followerRows), seconds);
      return {
        leader: rate(counts.u0 ?? {}, seconds),
        followers: followerRate,
        perFollower: followers.length > 0 ? round(followerRate.perSecond / followers.length) : 0,
        lockCalls: { leader: perSecond(diff(after.leader, before.leader), seconds), followers: perSecond(diff(after.followers, before.followers), seconds) },
      };
    };
    const startFollowers = async (watch: boolean): Promise<void> => {
      followers = factories.slice(1).map((f, i) => new BenchElector(f.lock(name, `follower-${watch ? 'w' : 'p'}${i}`), { timings, watch }).run());
      await within(Promise.all(followers.map((f) => f.observed('leader'))), 30_000, 'followers observing the leader');
    };
    const stopFollowers = async (): Promise<void> => {
      await Promise.all(followers.map((f) => f.stop()));
      followers = [];
    };

    ctx.log(`    steady: leader alone for ${options.windowMs} ms`);
    const leaderAlone = await measure();
    await startFollowers(true);
    ctx.log(`    steady: + ${n} watching followers`);
    const watching = await measure();
    await stopFollowers();
    await startFollowers(false);
    ctx.log(`    steady: + ${n} polling followers (watch off)`);
    const polling = await measure();
    await stopFollowers();
    const writes = (leaderAlone.lockCalls.leader.update ?? 0) + (leaderAlone.lockCalls.leader.create ?? 0);
    return {
      timings,
      windowMs: options.windowMs,
      followers: n,
      source,
      leaderAlone,
      watching,
      polling,
      leaderWritesPerRetryPeriod: round((writes * timings.retryPeriodMs) / 1000),
    };
  } finally {
    meter?.stop();
    await Promise.all(followers.map((f) => f.stop().catch(() => {})));
    await leader.stop().catch(() => {});
    await closeAll(factories);
  }
}

function snapshotCalls(leader: BenchElector, followers: BenchElector[]): { leader: Record<string, number>; followers: Record<string, number> } {
  const sum: Record<string, number> = {};
  for (const f of followers) for (const [k, v] of Object.entries(f.probe.calls)) sum[k] = (sum[k] ?? 0) + v;
  return { leader: { ...leader.probe.calls }, followers: sum };
}

function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) out[k] = v - (b[k] ?? 0);
  return out;
}

function sumRows(rows: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) for (const [k, v] of Object.entries(row)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function perSecond(row: Record<string, number>, seconds: number): Record<string, number> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, round(v / seconds)]));
}

function rate(row: Record<string, number>, seconds: number): Rate {
  const { total = 0, ...byOp } = row;
  return { perSecond: round(total / seconds), byOp: perSecond(byOp, seconds) };
}
