import { AbortedError } from '@baton/core';
import type { Clock, TimerHandle } from '@baton/core';

/**
 * Whose request it is. `hold`: a lease this process holds (renewal, release, the check after
 * a surprise) — losing it to a queue would cost leadership. `acquire`: everything else (reads
 * and writes of locks held by others or free, Events).
 */
export type RequestPriority = 'hold' | 'acquire';

/** Held-lease requests served in a row, at most, while acquisitions wait. */
export const HOLD_STREAK = 4;

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Left the queue (its signal aborted); skipped when reached, so leaving is O(1). */
  gone: boolean;
}

/**
 * client-go's token bucket (`flowcontrol.NewTokenBucketRateLimiter(qps, burst)`) with two
 * queues: a request for a held lease always goes before any waiting acquisition, so
 * followers can never use up the budget a leader needs to renew. It also bounds the requests
 * in flight to the sockets there are, so requests wait here — in priority order, leaving at
 * once when their signal aborts — rather than in the HTTP agent's queue, where a request that
 * times out costs nothing but an aborted one on the wire costs its connection.
 *
 * When both wait, at most {@link HOLD_STREAK} held-lease requests go before one acquisition:
 * renewals come back every retryPeriod, so under overload strict priority would let them
 * take every slot and starve acquisitions for good, while this share costs a renewal one
 * request's wait in five — far inside renewDeadline.
 *
 * Held leases are served first come, first served. Acquisitions are served newest first: when
 * more wait than can be sent before their deadlines (thousands of elections starting at
 * once), the oldest would time out anyway, and serving them first only makes every request
 * late (adaptive LIFO, the usual cure for a queue under overload).
 */
export class RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private tokens: number;
  private refilledAt: number;
  private readonly queues: Record<RequestPriority, Waiter[]> = { hold: [], acquire: [] };
  private timer: TimerHandle | undefined;
  private queued = 0;
  private holdStreak = 0;

  /** @param maxInFlight - requests sent and not yet answered at most (default: no bound). */
  constructor(qps: number, burst: number, clock: Clock, maxInFlight = Number.POSITIVE_INFINITY) {
    this.qps = Number.isFinite(qps) && qps > 0 ? qps : Number.POSITIVE_INFINITY;
    this.burst = Math.max(1, burst);
    this.clock = clock;
    this.maxInFlight = maxInFlight;
    this.tokens = this.burst;
    this.refilledAt = clock.now();
  }

  /** Requests waiting for a token. */
  get waiting(): number {
    return this.queued;
  }

  /**
   * Resolves when the request may be sent, with the function to call once it is answered;
   * rejects with the signal's reason if it aborts first.
   */
  take(priority: RequestPriority, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new AbortedError());
    if (this.waiting === 0 && this.available()) return Promise.resolve(this.grant());
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = { resolve: () => resolve(this.grant()), reject, signal, onAbort: undefined, gone: false };
      if (signal) {
        waiter.onAbort = () => {
          waiter.gone = true;
          this.queued--;
          reject(signal.reason ?? new AbortedError());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queues[priority].push(waiter);
      this.queued++;
      this.schedule();
    });
  }

  /** Whether a request could be sent now (a token and a free slot). */
  private available(): boolean {
    if (this.inFlight >= this.maxInFlight) return false;
    if (this.qps === Number.POSITIVE_INFINITY) return true;
    this.refill();
    return this.tokens >= 1;
  }

  private grant(): () => void {
    if (this.qps !== Number.POSITIVE_INFINITY) this.tokens -= 1;
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (this.waiting > 0) this.drain();
    };
  }

  /** Rejects every waiter (the factory is closing). */
  close(reason: unknown): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of [...this.queues.hold.splice(0), ...this.queues.acquire.splice(0)]) {
      if (waiter.gone) continue;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(reason);
    }
    this.queued = 0;
  }

  private refill(): void {
    if (this.qps === Number.POSITIVE_INFINITY) return;
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.qps) / 1000);
    this.refilledAt = now;
  }

  private drain(): void {
    while (this.queued > 0 && this.available()) {
      const acquisitionsWait = this.queues.acquire.length > 0;
      const holdFirst = this.queues.hold.length > 0 && (!acquisitionsWait || this.holdStreak < HOLD_STREAK);
      const waiter = holdFirst ? this.queues.hold.shift() : this.queues.acquire.pop();
      if (waiter === undefined) break;
      if (waiter.gone) continue;
      this.holdStreak = holdFirst ? this.holdStreak + 1 : 0;
      this.queued--;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.schedule();
  }

  /** A timer for the next token, when tokens (not slots) are what the queue waits for. */
  private schedule(): void {
    if (this.timer !== undefined || this.waiting === 0 || this.inFlight >= this.maxInFlight || this.qps === Number.POSITIVE_INFINITY) return;
    const waitMs = Math.max(1, ((1 - this.tokens) * 1000) / this.qps);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
  }
}
