import { withDeadline } from './deadline.ts';
import type { MutexContext } from './distributed-mutex.ts';
import { LockLostError } from './errors.ts';
import { jitteredRetryMs } from './jitter.ts';
import { startLease } from './start-lease.ts';
import type { SlotLease } from './lock-slots.ts';
import type { NativeAttempt } from './native-primitives.ts';
import type { WatchHandlers } from './resource-lock.ts';
import type { Waker } from './waiting.ts';

/** A granted native attempt. */
export type NativeGrant = Extract<NativeAttempt, { granted: true }>;

/**
 * What the native semaphore and reader-writer lock share: one watch of the primitive feeding
 * a {@link Waker}, the waits it allows, and holding a granted unit as a renewed lease.
 */
export class NativeWaiting {
  private readonly context: MutexContext;
  private readonly waker: Waker;
  private readonly source: { watch(handlers: WatchHandlers): () => void };
  private stop: (() => void) | undefined;
  private healthy = false;

  constructor(context: MutexContext, waker: Waker, source: { watch(handlers: WatchHandlers): () => void }) {
    this.context = context;
    this.waker = waker;
    this.source = source;
  }

  /** Starts the watch (once): every change, and every change of its health, wakes the waiters. */
  start(): void {
    if (this.stop) return;
    this.stop = this.source.watch({
      onChange: () => this.waker.wake(),
      onHealth: (healthy) => {
        this.healthy = healthy;
        // Whatever happened while the watch was down must be looked at again.
        this.waker.wake();
      },
    });
  }

  /**
   * How long to sleep after a refusal: until the unit in the way may expire while pushes can
   * be trusted (a release wakes us sooner), never longer than a lease; no longer than the
   * jittered retry period while the watch is down.
   */
  waitAfter(retryInMs: number): number {
    const bound = this.healthy ? this.context.leaseDurationMs : this.retryDelay();
    return Math.max(1, Math.min(retryInMs, bound));
  }

  retryDelay(): number {
    return jitteredRetryMs(this.context.retryPeriodMs, this.context.random);
  }

  /** One backend call, bounded by the retry period and `signal`. */
  call<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return withDeadline(this.context.clock, this.context.retryPeriodMs, fn, signal);
  }

  /** Starts renewing a granted unit. `label` names it in errors and logs. */
  hold(grant: NativeGrant, writeStart: number, label: string): SlotLease {
    const lock = grant.hold;
    const { lease, ended, stopSession } = startLease(this.context, lock, grant.snapshot, writeStart, label);
    const onReleased = (): void => {
      stopSession?.();
      void lock.close?.();
    };
    return { lease, ended, onReleased };
  }

  /** Gives back a unit that was granted but will not be handed out (a caller that gave up). */
  async giveBack(held: SlotLease): Promise<void> {
    held.ended.abort(() => new LockLostError('given back'));
    if (!held.lease.lost) await held.lease.release();
    held.onReleased(undefined);
  }

  /** Stops the watch; held units are unaffected. */
  close(): void {
    this.stop?.();
    this.stop = undefined;
    this.healthy = false;
  }
}
