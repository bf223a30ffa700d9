import type { Clock, Logger, TimerHandle } from '@baton/core';
import type { Redis } from 'ioredis';
import { DEFAULTS } from './options.ts';

/**
 * The reconnect backoff of connections baton opens: 50 ms, doubling, capped at 1 s, so a
 * restarted server is back within about a second. `attempt` counts from 1.
 */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(DEFAULTS.firstReconnectDelayMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 10), DEFAULTS.maxReconnectDelayMs);
}

/**
 * ioredis' own reconnect loop, turned off: connections baton opens return `null` from
 * `retryStrategy`, so a dropped connection ends ("end") instead of retrying on ioredis'
 * timers. Baton's backoff then runs on its {@link Clock} ({@link Reconnector}), which tests
 * drive with a fake clock.
 */
export const NO_IOREDIS_RETRY = (): null => null;

/** Delay before reconnect attempt `attempt` (from 1); anything but a number gives up. */
export type ReconnectDelay = (attempt: number) => number | null | undefined | void;

/**
 * Reconnects one connection baton opened each time it ends, after `delay(attempt)` on the
 * clock ({@link reconnectDelayMs} unless the connection options name a `retryStrategy`; the
 * attempt count resets once it is ready again), until stopped.
 */
export class Reconnector {
  private readonly client: Redis;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly what: string;
  private readonly delay: ReconnectDelay;
  private attempt = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly onEnd = (): void => this.schedule();
  private readonly onReady = (): void => {
    this.attempt = 0;
  };

  constructor(client: Redis, options: { clock: Clock; logger: Logger; what: string; delay?: ReconnectDelay | undefined }) {
    this.client = client;
    this.delay = options.delay ?? reconnectDelayMs;
    this.clock = options.clock;
    this.logger = options.logger;
    this.what = options.what;
    client.on('end', this.onEnd);
    client.on('ready', this.onReady);
  }

  /** Attempts so far since the connection was last ready (for tests and diagnostics). */
  get attempts(): number {
    return this.attempt;
  }

  /** No more reconnects; call before closing the connection. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.client.off('end', this.onEnd);
    this.client.off('ready', this.onReady);
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    const delay = this.delay(++this.attempt);
    if (typeof delay !== 'number') {
      this.logger.warn({ connection: this.what, attempt: this.attempt }, 'Redis connection ended; retryStrategy gave up reconnecting');
      return;
    }
    this.logger.debug({ connection: this.what, attempt: this.attempt, delayMs: delay }, 'Redis connection ended; reconnecting');
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.client.status !== 'end') return;
      // A failed attempt ends the connection again, which schedules the next one.
      this.client.connect().catch(() => {});
    }, delay);
  }
}
