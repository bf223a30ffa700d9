/** client-go's factor: a retry waits between retryPeriod and (1 + JITTER_FACTOR) × retryPeriod. */
export const JITTER_FACTOR = 1.2;

/**
 * The wait before a contender tries again: between `retryPeriodMs` and
 * (1 + {@link JITTER_FACTOR}) × `retryPeriodMs`, client-go's `wait.Jitter`. Contenders that
 * failed together (a backend outage, a lost race) spread out instead of retrying in step.
 * @param random - the source of jitter, returning [0, 1) (a fixed value in tests).
 */
export function jitteredRetryMs(retryPeriodMs: number, random: () => number): number {
  return retryPeriodMs * (1 + JITTER_FACTOR * random());
}
