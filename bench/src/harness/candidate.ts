// A candidate process: runs one LeaderElector on one backend and, while it leads, writes to
// the protected resource with its fencing token. Every belief and write is appended to its
// history file (synchronously, so a SIGKILL loses nothing logged before it) and echoed on
// stdout for the parent.
//
// Configured by environment (see candidateEnv in run.ts):
//   BATON_BACKEND, BATON_CONNECT (JSON from BackendServer.connectInfo), BATON_LOCK,
//   BATON_IDENTITY, BATON_SLOT, BATON_TIMINGS (JSON LeaseTimings), BATON_WATCH (1|0),
//   BATON_LABEL, and optionally BATON_RESOURCE (URL), BATON_HISTORY (file),
//   BATON_WRITE_INTERVAL (ms, default 50), BATON_GUARD (1 = guarded, the default | 0).
// Stops gracefully (release on cancel) on SIGTERM/SIGINT.
import { appendFileSync } from 'node:fs';
import { LeaderElector } from '@baton/core';
import type { LeaseTimings, LeaderTerm } from '@baton/core';
import { loadDriver } from '../backends/index.ts';
import type { ConnectInfo } from '../backends/types.ts';
import { measureClockOffset, now, sleep } from '../lib/clock.ts';
import { postWrite } from './write-client.ts';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const identity = env('BATON_IDENTITY');
const slot = Number(env('BATON_SLOT', '0'));
const historyFile = process.env.BATON_HISTORY;
const resourceUrl = process.env.BATON_RESOURCE;
const writeIntervalMs = Number(env('BATON_WRITE_INTERVAL', '50'));
const timings = JSON.parse(env('BATON_TIMINGS')) as LeaseTimings;
/**
 * Guarded (the default): every write is preceded by `term.assertLeading()`, the synchronous
 * check users are told to put before each unit of leader-only work. Unguarded: writes go out
 * until the term's signal aborts, as code that only watches the signal would — kept as a
 * probe, so the fence still meets stale writes (a leader woken from SIGSTOP writes once
 * before its overdue timers end the term).
 */
const guarded = env('BATON_GUARD', '1') !== '0';

function record(ev: string, fields: Record<string, unknown> = {}): void {
  const line = `${JSON.stringify({ src: 'candidate', t: now(), pid: process.pid, slot, identity, ev, ...fields })}\n`;
  if (historyFile) appendFileSync(historyFile, line);
  process.stdout.write(line);
}

// An unhandled error crashes the process as Node would by default, but is recorded first.
for (const kind of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(kind, (error: unknown) => {
    record('error', { fatal: true, kind, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(70);
  });
}

const driver = await loadDriver(env('BATON_BACKEND'));
const factory = await driver.openFactory(JSON.parse(env('BATON_CONNECT')) as ConnectInfo, { timings, label: env('BATON_LABEL', `c${slot}`) });
const lock = factory.lock(env('BATON_LOCK'), identity);

// Before the elector runs (nothing before this goes into the checked history): this process's
// offset to the harness clock. Measured after the imports and the connection so that start-up
// CPU load does not stretch the round trips.
if (resourceUrl) {
  const clockUrl = new URL('/clock', resourceUrl).href;
  let best = await measureClockOffset(clockUrl, 25);
  record('clock', { ...best });
  // The offset is constant, so a faster round trip later is a better measurement of it; on a
  // loaded machine the start-up samples are often slow. One sample a second, kept when better.
  setInterval(() => {
    void measureClockOffset(clockUrl, 1).then(
      (sample) => {
        if (sample.uncertaintyMs >= best.uncertaintyMs) return;
        best = { ...sample, samples: best.samples + 1 };
        record('clock', { ...best });
      },
      () => {},
    );
  }, 1_000).unref();
}

let seq = 0;
let errors = 0;

async function lead(term: LeaderTerm): Promise<void> {
  const { fencingToken: token, signal } = term;
  record('start', { token, mode: guarded ? 'guarded' : 'unguarded' });
  signal.addEventListener('abort', () => record('stop', { token, reason: String((signal.reason as Error)?.message ?? signal.reason) }), { once: true });
  if (!resourceUrl) {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    return;
  }
  while (!signal.aborted) {
    if (guarded) {
      try {
        term.assertLeading();
      } catch (e) {
        // The lease check refused this unit of work (typically right after SIGCONT, before
        // the overdue timers ran): no write; the term's signal aborts moments later.
        record('guard', { token, message: String((e as Error)?.message ?? e) });
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return;
      }
    }
    const mySeq = ++seq;
    const sentAt = now();
    // On record before it leaves: a SIGKILL while the write is in flight loses nothing.
    record('send', { token, seq: mySeq });
    const outcome = await postWrite(resourceUrl, { pid: process.pid, identity, token, seq: mySeq });
    record('write', { token, seq: mySeq, sentAt, ...outcome });
    await sleep(writeIntervalMs, signal);
  }
}

const elector = new LeaderElector({
  lock,
  leaseDuration: timings.leaseDurationMs,
  renewDeadline: timings.renewDeadlineMs,
  retryPeriod: timings.retryPeriodMs,
  watch: env('BATON_WATCH', '1') !== '0',
  releaseOnCancel: true,
  callbacks: {
    onStartedLeading: lead,
    onNewLeader: (leader) => record('leader', { leader }),
  },
  onError: () => {
    errors++;
  },
});

const stop = new AbortController();
const onSignal = (): void => {
  if (stop.signal.aborted) return;
  stop.abort();
  // Never hang on the way out: a stuck release still ends the process.
  setTimeout(() => {
    record('exit', { message: 'forced exit after 10 s', errors });
    process.exit(1);
  }, 10_000).unref();
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

record('ready');
await elector.run(stop.signal);
await factory.close().catch(() => {});
record('exit', { errors });
process.exit(0);
