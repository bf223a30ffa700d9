import { readFileSync } from 'node:fs';
import type { LeaseTimings } from '@baton/core';
import { ChildHandle } from '../lib/child.ts';
import { round } from '../lib/stats.ts';
import { BenchElector, DEFAULTS, within } from './common.ts';
import type { BenchContext } from './common.ts';

const CHILD = new URL('./cost-child.ts', import.meta.url);

interface ChildResult {
  count: number;
  ready: boolean;
  leadingAtStart: number;
  readyMs: number;
  stopMs: number;
  leadingAtEnd: number;
  baseline: { heapUsed: number; rss: number; external: number; sockets: number; cpu?: { cpuMs: number; wallMs: number; loopDelayP99Ms: number } };
  after: { heapUsed: number; rss: number; external: number; sockets: number };
  cpu: { cpuMs: number; wallMs: number; loopDelayP99Ms: number };
  /** CPU of the backend's server process over the same window, % of one core (when known). */
  serverCpuPercent?: number;
}

export interface ScaleResult {
  elections: number;
  timings: LeaseTimings;
  /** Whether every election led within the start-up deadline (90 s). */
  allLed: boolean;
  /** Time until every election led (or the deadline). */
  readyMs: number;
  /** Elections leading when the measurement window began. */
  leadingAtStart: number;
  /** Elections still leading at the end of the window (all, unless the backend fell behind). */
  leadingAtEnd: number;
  heapPerElectionKiB: number;
  rssPerElectionKiB: number;
  /** CPU of the process over the window, % of one core. */
  cpuPercent: number;
  loopDelayP99Ms: number;
  /** Sockets the process opened for the elections. */
  connections: number;
  /** CPU of the backend server process (fake apiserver, redis-server) over the window, % of a core. */
  serverCpuPercent?: number;
  /** Releasing all of them on shutdown. */
  stopMs: number;
}

export interface IdleResult {
  timings: LeaseTimings;
  windowMs: number;
  /** A process with the adapter's code loaded, no factory and no elector: the floor. */
  baseline: { cpuPercent: number; heapMiB: number; rssMiB: number };
  following: IdleRole;
  leading: IdleRole;
}

export interface IdleRole {
  /** CPU over the window, % of one core, and ms per minute. */
  cpuPercent: number;
  cpuMsPerMinute: number;
  /** Above the baseline. */
  heapKiB: number;
  rssKiB: number;
  connections: number;
}

/** utime + stime of a process in clock ticks (100 Hz), and when it was read. */
function cpuTicks(pid: number): { ticks: number; t: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(fields[11]) + Number(fields[12]), t: performance.now() };
  } catch {
    return undefined;
  }
}

async function runChild(ctx: BenchContext, options: { count: number; role: 'lead' | 'follow'; prefix: string; windowMs: number; timings: LeaseTimings }): Promise<ChildResult> {
  const child = new ChildHandle(CHILD, {
    label: `cost ${options.role} ×${options.count}`,
    nodeArgs: ['--expose-gc'],
    env: {
      BATON_BACKEND: ctx.driver.name,
      BATON_CONNECT: JSON.stringify(ctx.server.connectInfo()),
      BATON_TIMINGS: JSON.stringify(options.timings),
      BATON_PREFIX: options.prefix,
      BATON_COUNT: String(options.count),
      BATON_ROLE: options.role,
      BATON_WINDOW: String(options.windowMs),
      BATON_LABEL: `cost${options.role}`,
    },
  });
  // The server's CPU over the child's measurement window, from /proc.
  const serverPid = ctx.server.pid;
  let serverStart: { ticks: number; t: number } | undefined;
  let serverCpuPercent: number | undefined;
  child.onEvent((e) => {
    if (e.ev !== 'window' || serverPid === undefined) return;
    const sample = cpuTicks(serverPid);
    if (sample === undefined) return;
    if (e.phase === 'start') serverStart = sample;
    else if (serverStart) serverCpuPercent = (100 * (sample.ticks - serverStart.ticks) * 10) / (sample.t - serverStart.t);
  });
  try {
    const event = await child.waitFor((e) => e.ev === 'result' || e.ev === 'error', options.windowMs * 3 + 300_000, 'a result');
    if (event.ev === 'error') throw new Error(`cost child: ${String(event.message)}`);
    return { ...(event as unknown as ChildResult), ...(serverCpuPercent === undefined ? {} : { serverCpuPercent }) };
  } finally {
    await child.terminate(10_000);
  }
}

/** 1,000 concurrent elections (different lock names) in one process, all leading. */
export async function measureScale(ctx: BenchContext, options: { elections: number; windowMs: number }): Promise<ScaleResult> {
  const timings = DEFAULTS;
  const r = await runChild(ctx, { count: options.elections, role: 'lead', prefix: `scale-${ctx.runId}`, windowMs: options.windowMs, timings });
  return {
    elections: r.count,
    timings,
    allLed: r.ready,
    readyMs: round(r.readyMs, 0),
    leadingAtStart: r.leadingAtStart,
    leadingAtEnd: r.leadingAtEnd,
    heapPerElectionKiB: round((r.after.heapUsed - r.baseline.heapUsed) / 1024 / r.count, 1),
    rssPerElectionKiB: round((r.after.rss - r.baseline.rss) / 1024 / r.count, 1),
    cpuPercent: round((100 * r.cpu.cpuMs) / r.cpu.wallMs, 1),
    loopDelayP99Ms: round(r.cpu.loopDelayP99Ms, 1),
    connections: r.after.sockets - r.baseline.sockets,
    ...(r.serverCpuPercent === undefined ? {} : { serverCpuPercent: round(r.serverCpuPercent, 1) }),
    stopMs: round(r.stopMs, 0),
  };
}

/** One elector alone in a process, following (someone else leads) and leading. */
export async function measureIdle(ctx: BenchContext, options: { windowMs: number }): Promise<IdleResult> {
  const timings = DEFAULTS;
  const prefix = `idle-${ctx.runId}`;
  const leading = await runChild(ctx, { count: 1, role: 'lead', prefix: `${prefix}-lead`, windowMs: options.windowMs, timings });
  // Following: this process holds the lock the child campaigns for.
  const factory = await ctx.driver.openFactory(ctx.server.connectInfo(), { timings, label: 'idleholder' });
  const holder = new BenchElector(factory.lock(`${prefix}-follow-0`, 'holder'), { timings, watch: true }).run();
  let following: ChildResult;
  try {
    await within(holder.started, 30_000, 'the holder');
    following = await runChild(ctx, { count: 1, role: 'follow', prefix: `${prefix}-follow`, windowMs: options.windowMs, timings });
  } finally {
    await holder.stop();
    await factory.close();
  }
  const role = (r: ChildResult): IdleRole => ({
    cpuPercent: round((100 * r.cpu.cpuMs) / r.cpu.wallMs, 3),
    cpuMsPerMinute: round((r.cpu.cpuMs * 60_000) / r.cpu.wallMs, 1),
    heapKiB: round((r.after.heapUsed - r.baseline.heapUsed) / 1024, 0),
    rssKiB: round((r.after.rss - r.baseline.rss) / 1024, 0),
    connections: r.after.sockets - r.baseline.sockets,
  });
  const base = leading.baseline;
  return {
    timings,
    windowMs: options.windowMs,
    baseline: {
      cpuPercent: base.cpu ? round((100 * base.cpu.cpuMs) / base.cpu.wallMs, 3) : Number.NaN,
      heapMiB: round(base.heapUsed / 2 ** 20, 1),
      rssMiB: round(base.rss / 2 ** 20, 1),
    },
    following: role(following),
    leading: role(leading),
  };
}
