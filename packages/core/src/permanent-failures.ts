import type { Clock } from './clock.ts';
import { BatonError, isPermanentError } from './errors.ts';

/**
 * Tells a run of permanent failures (a wrong password, a missing permission or database, a
 * record that is not baton's — see {@link isPermanentError}) from trouble that passes. Any
 * outcome that is not a permanent failure — a success, a lost race, a held lock, a transient
 * error — ends the run: only failures that stay permanent for the whole window count.
 */
export class PermanentFailures {
  private readonly clock: Clock;
  private readonly giveUpAfterMs: number | undefined;
  private since: number | undefined;
  private last: unknown;

  /** @param giveUpAfterMs - how long a run may last before {@link PermanentFailures.failed} says give up; `undefined`: never. */
  constructor(clock: Clock, giveUpAfterMs: number | undefined) {
    this.clock = clock;
    this.giveUpAfterMs = giveUpAfterMs;
  }

  /** The error of the ongoing run of permanent failures, if there is one. */
  get ongoing(): unknown {
    return this.since === undefined ? undefined : this.last;
  }

  /** Anything but a permanent failure: the run, if any, is over. */
  recovered(): void {
    this.since = undefined;
    this.last = undefined;
  }

  /**
   * An operation failed with `error`.
   * @returns the error to give up with (code `GAVE_UP`, permanent, `cause`: the last failure)
   * once permanent failures have lasted the whole window; otherwise `undefined`.
   */
  failed(error: unknown): BatonError | undefined {
    if (!isPermanentError(error)) {
      this.recovered();
      return undefined;
    }
    const now = this.clock.now();
    this.since ??= now;
    this.last = error;
    if (this.giveUpAfterMs === undefined || now - this.since < this.giveUpAfterMs) return undefined;
    const detail = error instanceof Error ? error.message : String(error);
    return new BatonError('GAVE_UP', `gave up after ${Math.round(now - this.since)} ms of permanent errors: ${detail}`, { cause: error, permanent: true });
  }
}
