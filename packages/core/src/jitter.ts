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

/**
 * How far a renewal may be spread past retryPeriod: each renewal of a held lease waits between
 * retryPeriod and (1 + RENEW_SPREAD) × retryPeriod. A thousand leases taken in the same second
 * would otherwise renew in step forever, a burst of writes every retryPeriod; a random share of
 * a tenth de-phases them within a few periods. It never renews more often than once per
 * retryPeriod, and (renewDeadline > 1.2 × retryPeriod, checked up front) a renewal still starts
 * well before the deadline.
 */
export const RENEW_SPREAD = 0.1;

/**
 * The wait before the next renewal of a held lease: [1, 1 + {@link RENEW_SPREAD}) × `retryPeriodMs`,
 * in whole milliseconds (timers have no finer grain, and a clock advanced by fractions would
 * stamp fractional record times).
 */
export function spreadRenewalMs(retryPeriodMs: number, random: () => number): number {
  return Math.floor(retryPeriodMs * (1 + RENEW_SPREAD * random()));
}
