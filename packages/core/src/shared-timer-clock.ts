import type { Clock, TimerHandle } from './clock.ts';
import { systemClock } from './clock.ts';

/** One timer of a {@link SharedTimerClock}: a link in its list, ordered by due time. */
interface Entry {
  at: number;
  callback: (() => void) | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * A clock whose timers share ONE timer of the clock underneath. A lock's hot path sets and
 * clears a few timers per acquisition (call bounds, the held lease's renewal and deadline)
 * that almost never fire; on Node each costs a timer object, and a duration whose list
 * empties and refills pays for rebuilding the list. Here a timer is a link in one list
 * ordered by due time: setting it appends (due times mostly grow, so the walk from the tail
 * stops at once), clearing it unlinks.
 *
 * The shared timer is armed for the earliest link. On the system clock it is not cleared
 * when the list empties, only unref'd (a later timer due no earlier re-uses it; an early
 * firing finds nothing due and re-arms); while the list is not empty it keeps the process
 * alive, as the timers it stands for would. On any other clock (a test's fake clock) it is
 * cleared at once, so that clock's count of pending timers stays exact.
 */
export class SharedTimerClock implements Clock {
  private readonly base: Clock;
  private readonly lazy: boolean;
  private head: Entry | undefined;
  private tail: Entry | undefined;
  private timer: TimerHandle | undefined;
  /** Due time of the shared timer while it is armed. */
  private armedAt = Number.POSITIVE_INFINITY;
  private refed = false;

  constructor(base: Clock = systemClock) {
    this.base = base;
    this.lazy = base === systemClock;
  }

  now(): number {
    return this.base.now();
  }

  wallNow(): number {
    return this.base.wallNow();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const entry: Entry = { at: this.base.now() + Math.max(0, ms), callback, prev: undefined, next: undefined };
    let after = this.tail;
    while (after !== undefined && after.at > entry.at) after = after.prev;
    entry.prev = after;
    entry.next = after === undefined ? this.head : after.next;
    if (entry.next) entry.next.prev = entry;
    else this.tail = entry;
    if (after) after.next = entry;
    else this.head = entry;
    // The head is the earliest link (a callback running in fire() may add one behind it).
    if (this.head!.at < this.armedAt) this.arm(this.head!.at);
    else if (!this.refed) this.ref(true);
    return entry;
  }

  clearTimeout(handle: TimerHandle): void {
    const entry = handle as Entry;
    if (entry.callback === undefined) return;
    this.unlink(entry);
    if (this.head === undefined) this.idle();
  }

  private unlink(entry: Entry): void {
    entry.callback = undefined;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
  }

  /** Nothing is due any more: a fake clock forgets the shared timer, the system clock lets it go unref'd. */
  private idle(): void {
    if (this.lazy) {
      this.ref(false);
      return;
    }
    if (this.timer !== undefined) this.base.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.base.clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = this.base.setTimeout(() => this.fire(), at - this.base.now());
    this.refed = true;
  }

  private ref(on: boolean): void {
    if (this.refed === on || this.timer === undefined) return;
    this.refed = on;
    const handle = this.timer as { ref?: () => unknown; unref?: () => unknown };
    if (on) handle.ref?.();
    else handle.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    this.refed = false;
    const now = this.base.now();
    // Callbacks may set and clear timers; each due link is taken off before its callback runs.
    for (let entry = this.head; entry !== undefined && entry.at <= now; entry = this.head) {
      const callback = entry.callback!;
      this.unlink(entry);
      callback();
    }
    if (this.head !== undefined && this.timer === undefined) this.arm(this.head.at);
  }
}
