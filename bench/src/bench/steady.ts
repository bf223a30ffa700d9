import type { LeaseTimings } from '@baton/core';
import { TcpProxy } from '@baton/testkit';
import type { ClientMeter, LockFactoryHandle } from '../backends/types.ts';
import { sleep } from '../lib/clock.ts';
import { round } from '../lib/stats.ts';
import { ClientGoLoop } from './client-go-loop.ts';
import { BenchElector, DEFAULTS, closeAll, within } from './common.ts';
import type { BenchContext } from './common.ts';

/**
 * Traffic on the wire, counted by a TCP proxy in front of every connection a side's factory
 * opens (commands, subscriber or LISTEN, session, watch streams): what the backend really
 * receives, whatever the adapter does behind the ResourceLock.
 */
export interface WireRate {
  /** Client→server TCP reads per second (about one per request; pipelined requests may share one). */
  readsPerSecond: number;
  /** Bytes per second, both directions. */
  bytesPerSecond: number;
  /** Connections the side had open through its proxies at the end of the window. */
  connections: number;
}

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
  /** Counted on the wire, every connection included. */
  wire: { leader: WireRate; followers: WireRate };
}

export interface SteadyResult {
  timings: LeaseTimings;
  windowMs: number;
  followers: number;
  /** How the requests were counted. */
  source: string;
  /** Leader alone, then with 10 watching followers, then with 10 polling followers (baton, watch off). */
  leaderAlone: SteadyPhase;
  watching: SteadyPhase;
  polling: SteadyPhase;
  /** The baseline: a leader and 10 followers running client-go's loop (see ClientGoLoop). */
  clientGo: { wire: { leader: WireRate; followers: WireRate } };
  /** Leader writes per retryPeriod, counted at the ResourceLock (target: 1). */
  leaderWritesPerRetryPeriod: number;
  /** The leader's client→server reads on the wire per retryPeriod, every connection included. */
  leaderWireReadsPerRetryPeriod: number;
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
  // Every factory behind a proxy of its own: the wire count per side, every connection included.
  const proxies: TcpProxy[] = [];
  const factories: LockFactoryHandle[] = [];
  for (let i = 0; i <= n; i++) {
    const proxy = await TcpProxy.start(ctx.server.address);
    proxies.push(proxy);
    factories.push(await ctx.driver.openFactory(ctx.server.connectInfo({ host: '127.0.0.1', port: proxy.port }), { timings, label: `u${i}` }));
  }
  const wireSnapshot = (): Array<{ reads: number; bytes: number }> => proxies.map((p) => ({ reads: p.stats.readsUp, bytes: p.stats.bytesUp + p.stats.bytesDown }));
  const wireRate = (before: Array<{ reads: number; bytes: number }>, seconds: number): { leader: WireRate; followers: WireRate } => {
    const after = wireSnapshot();
    const side = (indexes: number[]): WireRate => ({
      readsPerSecond: round(indexes.reduce((sum, i) => sum + after[i]!.reads - before[i]!.reads, 0) / seconds),
      bytesPerSecond: round(indexes.reduce((sum, i) => sum + after[i]!.bytes - before[i]!.bytes, 0) / seconds),
      connections: indexes.reduce((sum, i) => sum + proxies[i]!.openConnections, 0),
    });
    return { leader: side([0]), followers: side(proxies.slice(1).map((_, i) => i + 1)) };
  };
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
      const wireBefore = wireSnapshot();
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
        wire: wireRate(wireBefore, seconds),
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
    // The baseline: baton's leader steps down; a leader and n followers run client-go's loop on another lock.
    await leader.stop();
    ctx.log(`    steady: client-go's loop, 1 leader + ${n} followers`);
    const loops = factories.map((f, i) => new ClientGoLoop(f.lock(`${name}-client-go`, `client-go-${i}`), timings));
    loops[0]!.run();
    await within(waitFor(() => loops[0]!.leading), 30_000, 'the client-go leader');
    for (const loop of loops.slice(1)) loop.run();
    await sleep(1_500);
    const cgBefore = wireSnapshot();
    const cgStarted = performance.now();
    await sleep(options.windowMs);
    const clientGo = { wire: wireRate(cgBefore, (performance.now() - cgStarted) / 1000) };
    await Promise.all(loops.map((loop) => loop.stop()));
    const writes = (leaderAlone.lockCalls.leader.update ?? 0) + (leaderAlone.lockCalls.leader.create ?? 0);
    return {
      timings,
      windowMs: options.windowMs,
      followers: n,
      source,
      leaderAlone,
      watching,
      polling,
      clientGo,
      leaderWritesPerRetryPeriod: round((writes * timings.retryPeriodMs) / 1000),
      leaderWireReadsPerRetryPeriod: round((leaderAlone.wire.leader.readsPerSecond * timings.retryPeriodMs) / 1000),
    };
  } finally {
    meter?.stop();
    await Promise.all(followers.map((f) => f.stop().catch(() => {})));
    await leader.stop().catch(() => {});
    await closeAll(factories);
    await Promise.all(proxies.map((p) => p.close()));
  }
}

async function waitFor(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(20);
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
