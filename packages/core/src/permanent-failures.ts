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
  /** The last attempt's error, transient or permanent, until an attempt gets an answer. */
  private latest: unknown;

  /** @param giveUpAfterMs - how long a run may last before {@link PermanentFailures.failed} says give up; `undefined`: never. */
  constructor(clock: Clock, giveUpAfterMs: number | undefined) {
    this.clock = clock;
    this.giveUpAfterMs = giveUpAfterMs;
  }

  /** The error of the ongoing run of permanent failures, if there is one. */
  get ongoing(): unknown {
    return this.since === undefined ? undefined : this.last;
  }

  /**
   * The error of the last attempt while attempts keep failing, transient ones included: the
   * replica cannot take part in the election (readiness), though it keeps retrying.
   */
  get failing(): unknown {
    return this.latest;
  }

  /** The backend answered (a success, a lost race, a held lock): no run of failures goes on. */
  recovered(): void {
    this.since = undefined;
    this.last = undefined;
    this.latest = undefined;
  }

  /**
   * An operation failed with `error`.
   * @returns the error to give up with (code `GAVE_UP`, permanent, `cause`: the last failure)
   * once permanent failures have lasted the whole window; otherwise `undefined`.
   */
  failed(error: unknown): BatonError | undefined {
    this.latest = error;
    if (!isPermanentError(error)) {
      // A transient error ends a run of permanent ones: only a run that stays permanent gives up.
      this.since = undefined;
      this.last = undefined;
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
