import { AbortedError } from '@baton/core';
import type { Clock, TimerHandle } from '@baton/core';

/**
 * Whose request it is. `hold`: a lease this process holds (renewal, release, the check after
 * a surprise) — losing it to a queue would cost leadership. `acquire`: everything else (reads
 * and writes of locks held by others or free, Events).
 */
export type RequestPriority = 'hold' | 'acquire';

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * client-go's token bucket (`flowcontrol.NewTokenBucketRateLimiter(qps, burst)`) with two
 * queues: a request for a held lease always goes before any waiting acquisition, so
 * followers can never use up the budget a leader needs to renew. Waiters whose signal aborts
 * leave the queue at once.
 */
export class RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;
  private readonly queues: Record<RequestPriority, Waiter[]> = { hold: [], acquire: [] };
  private timer: TimerHandle | undefined;

  constructor(qps: number, burst: number, clock: Clock) {
    this.qps = qps;
    this.burst = Math.max(1, burst);
    this.clock = clock;
    this.tokens = this.burst;
    this.refilledAt = clock.now();
  }

  /** Requests waiting for a token. */
  get waiting(): number {
    return this.queues.hold.length + this.queues.acquire.length;
  }

  /** Resolves when the request may be sent; rejects with the signal's reason if it aborts first. */
  take(priority: RequestPriority, signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(this.qps) || this.qps <= 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason ?? new AbortedError());
    this.refill();
    if (this.waiting === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const queue = this.queues[priority];
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(signal.reason ?? new AbortedError());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queues[priority].push(waiter);
      this.schedule();
    });
  }

  /** Rejects every waiter (the factory is closing). */
  close(reason: unknown): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of [...this.queues.hold.splice(0), ...this.queues.acquire.splice(0)]) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(reason);
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.qps) / 1000);
    this.refilledAt = now;
  }

  private drain(): void {
    this.refill();
    while (this.tokens >= 1) {
      const waiter = this.queues.hold.shift() ?? this.queues.acquire.shift();
      if (waiter === undefined) break;
      this.tokens -= 1;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiting === 0) return;
    const waitMs = Math.max(1, ((1 - this.tokens) * 1000) / this.qps);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
  }
}
