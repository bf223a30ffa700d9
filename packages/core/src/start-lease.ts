import type { Clock } from './clock.ts';
import type { LeaseTimings } from './config.ts';
import { LockLostError } from './errors.ts';
import { HeldLease } from './held-lease.ts';
import { LazyAbort } from './lazy-abort.ts';
import type { Logger } from './logger.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';

/** What holding a lock needs from its owner (a mutex, a semaphore's slots, a native unit). */
export interface LeaseContext extends LeaseTimings {
  clock: Clock;
  logger: Logger;
  /** The source of the renewal spread, returning [0, 1). */
  random?: () => number;
}

/**
 * Starts holding `lock` as acquired (`snapshot`, its write sent at `writeStart`): a renewed
 * lease whose loss, or the loss of the lock's session, aborts `ended` with a LockLostError
 * saying "`label` lost: …", logged under `logName` (default: `label`). One way to hold for
 * mutexes, semaphore slots and native primitives' units.
 */
export function startLease(
  context: LeaseContext,
  lock: ResourceLock,
  snapshot: LockSnapshot,
  writeStart: number,
  label: string,
  logName: string = label,
): { lease: HeldLease; ended: LazyAbort; stopSession: (() => void) | undefined } {
  const { clock, leaseDurationMs, renewDeadlineMs, retryPeriodMs, logger, random } = context;
  const ended = new LazyAbort();
  const stopSession = lock.onSessionLost?.((reason) => lease.lose(`session lost: ${reason.message}`));
  const lease: HeldLease = new HeldLease(
    {
      lock,
      clock,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      random,
      onLost: (reason) => {
        ended.abort(() => new LockLostError(`${label} lost: ${reason}`));
        logger.warn({ lock: logName, reason }, 'lock lost');
      },
      onError: (error, message) => logger.warn({ lock: logName, error: String(error) }, message),
    },
    snapshot,
    writeStart,
  );
  return { lease, ended, stopSession };
}
