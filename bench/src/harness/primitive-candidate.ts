// A candidate process for the semaphore / reader-writer harness: in a loop, acquires a
// permit (or a read or a write), "acts" under it a few times, and releases it. Every event it
// records — `hold` when granted, `act` for each unit of work — is written right after a
// synchronous `isHeld()` check passed, so the recorded intervals are exactly the times this
// process believed it held, with no await in between (a pause before the check makes it fail).
//
// Environment: BATON_BACKEND, BATON_CONNECT (JSON), BATON_LOCK, BATON_IDENTITY, BATON_TIMINGS
// (JSON LeaseTimings), BATON_MODE (semaphore | rw), BATON_PERMITS, BATON_HISTORY (file).
// Stops (releasing what it holds) on SIGTERM.
import { appendFileSync } from 'node:fs';
import { DistributedLocks } from '@baton/core';
import type { LeaseTimings, LockHandle } from '@baton/core';
import { loadDriver } from '../backends/index.ts';
import type { ConnectInfo } from '../backends/types.ts';
import { now, sleep } from '../lib/clock.ts';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const identity = env('BATON_IDENTITY');
const mode = env('BATON_MODE', 'semaphore');
const permits = Number(env('BATON_PERMITS', '2'));
const historyFile = env('BATON_HISTORY');
const timings = JSON.parse(env('BATON_TIMINGS')) as LeaseTimings;

/**
 * The machine's monotonic clock (CLOCK_MONOTONIC through libuv), in ms: one time base for every
 * candidate with no offset to measure. `now()` adds a per-process origin read from the wall
 * clock at start, which differs between processes by a few ms — enough to order two grants
 * issued a moment apart the wrong way round (seen: consecutive tokens "granted" out of order).
 */
const stamp = (): number => Number(process.hrtime.bigint()) / 1e6;

function record(ev: string, fields: Record<string, unknown> = {}): void {
  const line = `${JSON.stringify({ src: 'primitive', t: stamp(), pid: process.pid, identity, ev, ...fields })}\n`;
  appendFileSync(historyFile, line);
}
for (const kind of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(kind, (error: unknown) => {
    record('error', { fatal: true, kind, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(70);
  });
}

const driver = await loadDriver(env('BATON_BACKEND'));
const factory = await driver.openFactory(JSON.parse(env('BATON_CONNECT')) as ConnectInfo, { timings, label: `p-${process.pid}` });
const locks = new DistributedLocks({
  identity,
  leaseDuration: timings.leaseDurationMs,
  renewDeadline: timings.renewDeadlineMs,
  retryPeriod: timings.retryPeriodMs,
  // The factory as is: its native semaphores and reader-writer locks when it has them.
  factory: { lock: (name, id) => factory.lock(name, id), close: () => factory.close(), primitives: factory.primitives },
});
const name = env('BATON_LOCK');
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
process.on('SIGINT', () => stop.abort());

async function acquire(): Promise<{ kind: string; handle: LockHandle; epoch?: number }> {
  if (mode === 'semaphore') return { kind: 'permit', handle: await locks.semaphore(name, { permits }).acquire({ signal: stop.signal }) };
  const rw = locks.readWrite(name, { maxReaders: 3 });
  if (Math.random() < 0.3) return { kind: 'write', handle: await rw.acquireWrite({ signal: stop.signal }) };
  const read = await rw.acquireRead({ signal: stop.signal });
  return { kind: 'read', handle: read, epoch: read.writeEpoch };
}

record('ready');
while (!stop.signal.aborted) {
  let held: Awaited<ReturnType<typeof acquire>>;
  const asked = stamp();
  try {
    held = await acquire();
  } catch (error) {
    if (!stop.signal.aborted) record('error', { message: String(error) });
    await sleep(100);
    continue;
  }
  const { kind, handle } = held;
  const token = handle.fencingToken;
  if (handle.isHeld()) record('hold', { kind, token, asked, ...(held.epoch === undefined ? {} : { epoch: held.epoch }) });
  const until = now() + 50 + Math.random() * 300;
  while (now() < until && !stop.signal.aborted) {
    if (!handle.isHeld()) break;
    record('act', { kind, token });
    await sleep(20);
  }
  record('end', { kind, token });
  try {
    await handle.release();
  } catch (error) {
    record('lost', { kind, token, message: String(error) });
  }
}
locks.close();
await factory.close().catch(() => {});
record('exit');
process.exit(0);
