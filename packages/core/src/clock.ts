/**
 * Time as the elector sees it. Decisions use `now()`, a monotonic reading that never jumps
 * with wall-clock adjustments; `wallNow()` only stamps records for humans.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock epoch milliseconds. */
  wallNow(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** The real clock: `performance.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface FakeTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that moves only when told, for tests. Timers fire in order of due time as
 * {@link FakeClock.advance} passes them, with pending promise callbacks run between timers
 * so async code reacts as it would in real time.
 */
export class FakeClock implements Clock {
  private monotonic = 0;
  private readonly wallOffset: number;
  private seq = 0;
  private readonly timers = new Set<FakeTimer>();

  constructor(startWallTime = Date.UTC(2026, 0, 1)) {
    this.wallOffset = startWallTime;
  }

  now(): number {
    return this.monotonic;
  }

  wallNow(): number {
    return this.wallOffset + this.monotonic;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.monotonic + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as FakeTimer);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.monotonic + ms;
    await settle();
    for (;;) {
      const next = this.nextTimer();
      if (next === undefined || next.at > target) break;
      this.timers.delete(next);
      // Timers left overdue by `jump` fire at the current time: a monotonic clock never goes back.
      this.monotonic = Math.max(this.monotonic, next.at);
      next.callback();
      await settle();
    }
    this.monotonic = target;
    await settle();
  }

  /**
   * Moves time forward by `ms` without firing any timer, as when the process was suspended
   * (SIGSTOP) or its event loop blocked; overdue timers fire on the next `advance`.
   */
  jump(ms: number): void {
    this.monotonic += ms;
  }

  /** Advances in steps until `predicate` holds, failing after `limitMs` of fake time. */
  async advanceUntil(predicate: () => boolean, limitMs: number, stepMs = 10): Promise<number> {
    const start = this.monotonic;
    while (!predicate()) {
      if (this.monotonic - start >= limitMs) {
        throw new Error(`condition not met within ${limitMs} ms of fake time`);
      }
      await this.advance(stepMs);
    }
    return this.monotonic - start;
  }

  private nextTimer(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets queued promise callbacks and I/O-free async chains run to completion. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
