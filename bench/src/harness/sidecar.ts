import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LeaseTimings } from '@baton/core';
import { ChildHandle } from '../lib/child.ts';
import { now } from '../lib/clock.ts';

/** The `baton` command of this workspace, and the command a sidecar candidate runs under it. */
const BATON = new URL('../../../packages/cli/bin/baton.ts', import.meta.url);
const COMMAND = new URL('./sidecar-command.ts', import.meta.url);

export interface SidecarOptions {
  /** The backend's `baton run` flags (BackendDriver.batonFlags). */
  flags: readonly string[];
  lockName: string;
  identity: string;
  slot: number;
  /** Unique per spawn: the command reports it, so the checker knows which baton process ran it. */
  spawnId: string;
  timings: LeaseTimings;
  resourceUrl: string;
  /** The run's directory: the command's history file and baton's log go there. */
  dir: string;
  writeIntervalMs: number;
}

/**
 * A sidecar candidate: `baton run` — the real command line, with its watchdog process and
 * lease deadline — running {@link COMMAND} while it leads. The harness's faults hit the baton
 * process itself (SIGKILL, SIGSTOP, its proxy); the command is baton's business. The command's
 * events arrive on baton's stdout (it inherits it); baton's JSON log goes to
 * `baton-<slot>-<pid>.log` in the run directory.
 */
export function spawnSidecar(options: SidecarOptions): ChildHandle {
  const { timings } = options;
  const args = [
    'run',
    ...options.flags,
    '--id', options.lockName,
    '--identity', options.identity,
    '--lease-duration', `${timings.leaseDurationMs}ms`,
    '--renew-deadline', `${timings.renewDeadlineMs}ms`,
    '--retry-period', `${timings.retryPeriodMs}ms`,
    '--port', '0',
    '--',
    process.execPath, '--no-warnings', fileURLToPath(COMMAND),
  ];
  const child = new ChildHandle(BATON, {
    args,
    label: `sidecar ${options.slot}`,
    keepEvents: false,
    env: {
      HARNESS_RESOURCE: options.resourceUrl,
      HARNESS_DIR: options.dir,
      HARNESS_SLOT: String(options.slot),
      HARNESS_HOST: options.spawnId,
      HARNESS_CLOCK_OFFSET: String(monotonicOffsetMs()),
      HARNESS_WRITE_INTERVAL: String(options.writeIntervalMs),
    },
  });
  child.child.stderr!.pipe(createWriteStream(join(options.dir, `baton-${options.slot}-${child.pid}.log`)));
  return child;
}

/** Calls `listener` for each of baton's log lines saying its command has exited. */
export function onCommandExited(child: ChildHandle, listener: () => void): void {
  createInterface({ input: child.child.stderr! }).on('line', (line) => {
    if (line.includes('"command exited"')) listener();
  });
}

/**
 * This process's `now()` minus the machine's monotonic clock (`process.hrtime`), in ms. Every
 * process reads the same monotonic clock, so a command that adds this to its own hrtime
 * reading stamps the harness clock exactly — no round trips to measure.
 */
function monotonicOffsetMs(): number {
  return now() - Number(process.hrtime.bigint() / 1000n) / 1000;
}
