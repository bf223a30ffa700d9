// A child process that measures what N electors cost in one process: heap, RSS, sockets,
// CPU over a window, event-loop delay. Used for the scale figure (N = 1000 leaders on
// different lock names) and the idle figure (N = 1, leading or following).
//
// Env: BATON_BACKEND, BATON_CONNECT, BATON_TIMINGS, BATON_PREFIX (lock names PREFIX-0…),
// BATON_COUNT, BATON_ROLE (lead | follow), BATON_WINDOW (ms), BATON_LABEL.
// Prints events: baseline, ready, result (and exits). Run with --expose-gc.
import { readdirSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LeaderElector } from '@baton/core';
import type { LeaseTimings } from '@baton/core';
import { loadDriver } from '../backends/index.ts';
import type { ConnectInfo } from '../backends/types.ts';
import { emit } from '../lib/child.ts';
import { now, sleep } from '../lib/clock.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const count = Number(env('BATON_COUNT'));
const role = env('BATON_ROLE');
const windowMs = Number(env('BATON_WINDOW'));
const timings = JSON.parse(env('BATON_TIMINGS')) as LeaseTimings;
const gc = (globalThis as { gc?: () => void }).gc;

function sockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

async function memory(): Promise<{ heapUsed: number; rss: number; external: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external + m.arrayBuffers };
}

/**
 * CPU time (user + system, ms) and event-loop delay over `ms`. The delay histogram samples
 * with a timer of its own, which would dominate the CPU of an idle process, so it is only
 * used when many electors run.
 */
async function cpuOver(ms: number): Promise<{ cpuMs: number; wallMs: number; loopDelayP99Ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  if (count > 1) histogram.enable();
  const startCpu = process.cpuUsage();
  const startWall = performance.now();
  await sleep(ms);
  const cpu = process.cpuUsage(startCpu);
  histogram.disable();
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - startWall, loopDelayP99Ms: count > 1 ? histogram.percentile(99) / 1e6 : Number.NaN };
}

const driver = await loadDriver(env('BATON_BACKEND'));
// The code is loaded before the baseline; the factory (and the connections it opens) after it,
// so that they count towards the electors.
await sleep(200);
const baseMem = await memory();
const baseSockets = sockets();
const baseCpu = count <= 1 ? await cpuOver(windowMs) : undefined;
emit('baseline', { ...baseMem, sockets: baseSockets, ...(baseCpu ? { cpu: baseCpu } : {}) });
const factory = await driver.openFactory(JSON.parse(env('BATON_CONNECT')) as ConnectInfo, { timings, label: env('BATON_LABEL') });

const stop = new AbortController();
let leading = 0;
let observed = 0;
const runs: Array<Promise<void>> = [];
const startedAt = now();
for (let i = 0; i < count; i++) {
  let seen = false;
  const elector = new LeaderElector({
    lock: factory.lock(`${env('BATON_PREFIX')}-${i}`, `cost-${process.pid}-${i}`),
    leaseDuration: timings.leaseDurationMs,
    renewDeadline: timings.renewDeadlineMs,
    retryPeriod: timings.retryPeriodMs,
    callbacks: {
      onStartedLeading: (term) =>
        new Promise<void>((resolve) => {
          leading++;
          term.signal.addEventListener('abort', () => {
            leading--;
            resolve();
          });
        }),
      onNewLeader: () => {
        if (!seen) observed++;
        seen = true;
      },
    },
  });
  runs.push(elector.run(stop.signal));
}
const target = (): boolean => (role === 'lead' ? leading >= count : observed >= count);
// Wait for every election to settle, but measure anyway if the backend cannot keep up.
const deadline = now() + Number(process.env.BATON_READY_TIMEOUT ?? 90_000);
while (!target() && now() < deadline) await sleep(50);
const ready = target();
const readyMs = now() - startedAt;
emit('ready', { ready, readyMs, leading, observed });
// Let start-up work (watches opening, first renewals) settle before measuring.
await sleep(Math.min(5_000, timings.retryPeriodMs * 2));
const leadingAtStart = leading;
emit('window', { phase: 'start' });
const cpu = await cpuOver(windowMs);
emit('window', { phase: 'end' });
const mem = await memory();
const socketCount = sockets();
const stillLeading = leading;
const stopStart = now();
stop.abort();
await Promise.all(runs);
const stopMs = now() - stopStart;
await factory.close().catch(() => {});
emit('result', {
  count,
  role,
  ready,
  readyMs,
  leadingAtStart,
  stopMs,
  leadingAtEnd: stillLeading,
  baseline: { ...baseMem, sockets: baseSockets, ...(baseCpu ? { cpu: baseCpu } : {}) },
  after: { ...mem, sockets: socketCount },
  cpu,
});
process.exit(0);
