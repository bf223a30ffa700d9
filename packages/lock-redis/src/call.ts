import type { Clock, TimerHandle } from '@baton/core';
import type { RedisClient } from './options.ts';
import type { ReplyWatchdog } from './reply-watchdog.ts';
import { unrefTimer } from './timers.ts';

/** A call of any result type, as lists hold them. */
export type AnyCall = Call<any>;

/** What a {@link Call} reports to whoever runs it. */
export interface CallOwner {
  /** The call settled (any way): forget it. */
  forget(call: AnyCall): void;
  /** The call's `operationTimeout` passed without an answer. */
  timedOut(call: AnyCall): void;
  /** The call's signal aborted. */
  aborted(call: AnyCall): void;
}

/**
 * One call on the command connection, from `exec` until it settles: by its answer, its
 * signal, its deadline or the connection going away — whichever comes first, once.
 *
 * It is its own abort listener (`handleEvent`) and a link in its owner's {@link CallDeadlines}
 * list, so a call costs one object and one promise, not closures and a timer of its own.
 */
export class Call<T> {
  readonly lock: string;
  readonly what: string;
  readonly signal: AbortSignal | undefined;
  /** The change channel of the lock the call reads or writes, if any (see `SubscriberOptions.busy`). */
  readonly channel: string | undefined;
  private readonly operation: (client: RedisClient) => Promise<T>;
  private readonly owner: CallOwner;
  private resolveCall!: (value: T) => void;
  private rejectCall!: (error: unknown) => void;
  readonly promise: Promise<T>;
  settled = false;
  /** Monotonic time after which the call times out; set by {@link CallDeadlines.add}. */
  deadline = 0;
  /** @internal links of {@link CallDeadlines} */
  prev: AnyCall | undefined;
  /** @internal */
  next: AnyCall | undefined;

  constructor(
    owner: CallOwner,
    lock: string,
    what: string,
    signal: AbortSignal | undefined,
    operation: (client: RedisClient) => Promise<T>,
    channel: string | undefined,
  ) {
    this.owner = owner;
    this.channel = channel;
    this.lock = lock;
    this.what = what;
    this.signal = signal;
    this.operation = operation;
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveCall = resolve;
      this.rejectCall = reject;
    });
  }

  /**
   * Sends the operation on `client`; its outcome settles the call unless something else did
   * first. `watchdog` hears that the connection owes a reply, and when it came.
   */
  run(client: RedisClient, mapError: (error: unknown, call: AnyCall) => unknown, watchdog?: ReplyWatchdog): void {
    if (this.settled) return;
    let sent: Promise<T>;
    try {
      sent = this.operation(client);
    } catch (error) {
      this.fail(mapError(error, this));
      return;
    }
    if (watchdog === undefined) {
      sent.then(
        (value) => this.succeed(value),
        (error: unknown) => this.fail(mapError(error, this)),
      );
      return;
    }
    watchdog.sent();
    sent.then(
      (value) => {
        watchdog.answered();
        this.succeed(value);
      },
      (error: unknown) => {
        watchdog.answered();
        this.fail(mapError(error, this));
      },
    );
  }

  succeed(value: T): void {
    if (this.finish()) this.resolveCall(value);
  }

  fail(error: unknown): void {
    if (this.finish()) this.rejectCall(error);
  }

  /** The signal's abort listener. */
  handleEvent(): void {
    this.owner.aborted(this);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.signal?.removeEventListener('abort', this);
    this.owner.forget(this);
    return true;
  }
}

/**
 * The deadlines of the calls in flight, in one list ordered by deadline (every call gets the
 * same timeout, so appending keeps the order) and ONE timer on the clock for the earliest.
 * A finished call unlinks itself; the timer is re-armed only when it fires, so a steady
 * stream of calls costs about one timer per timeout period instead of one per call.
 */
export class CallDeadlines {
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly onExpired: (call: AnyCall) => void;
  private head: AnyCall | undefined;
  private tail: AnyCall | undefined;
  private timer: TimerHandle | undefined;

  constructor(clock: Clock, timeoutMs: number, onExpired: (call: AnyCall) => void) {
    this.clock = clock;
    this.timeoutMs = timeoutMs;
    this.onExpired = onExpired;
  }

  /** Calls in flight (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (let call = this.head; call; call = call.next) n++;
    return n;
  }

  add(call: AnyCall): void {
    call.deadline = this.clock.now() + this.timeoutMs;
    call.prev = this.tail;
    call.next = undefined;
    if (this.tail) this.tail.next = call;
    else this.head = call;
    this.tail = call;
    if (this.timer === undefined) this.arm(call.deadline);
  }

  remove(call: AnyCall): void {
    if (call.prev) call.prev.next = call.next;
    else if (this.head === call) this.head = call.next;
    else return; // not linked
    if (call.next) call.next.prev = call.prev;
    else this.tail = call.prev;
    call.prev = call.next = undefined;
  }

  /** Stops the timer (the session is closing; its calls are failed by other means). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number): void {
    this.timer = unrefTimer(this.clock.setTimeout(() => this.fire(), at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let call = this.head; call && call.deadline <= now; call = this.head) {
      this.remove(call);
      this.onExpired(call);
    }
    if (this.head) this.arm(this.head.deadline);
  }
}
