import { Contender } from './contender.ts';
import { withDeadline } from './deadline.ts';
import type { MutexContext } from './distributed-mutex.ts';
import { isPermanentError, LockLostError } from './errors.ts';
import type { HeldLease } from './held-lease.ts';
import type { LazyAbort } from './lazy-abort.ts';
import { startLease } from './start-lease.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';
import type { Waker } from './waiting.ts';

/** A slot this process just won: the lock it was won through and the term as stored. */
export interface WonSlot {
  readonly index: number;
  readonly lock: ResourceLock;
  readonly snapshot: LockSnapshot;
  readonly writeStart: number;
}

/** One acquisition's identity and the slot locks it opened (see {@link LockSlots.beginAcquisition}). */
export interface SlotAcquisition {
  readonly identity: string;
  readonly locks: Map<number, Promise<ResourceLock>>;
}

/** A won slot being held: what a `LockHandle` is made of. */
export interface SlotLease {
  readonly lease: HeldLease;
  readonly ended: LazyAbort;
  /** Called once with the release the handle wrote (or `undefined`): offers it to the slot's contender, closes the lock. */
  readonly onReleased: (released: LockSnapshot | undefined) => void;
}

/**
 * N lock records (`<name>.permit-0` …) that together make a counting primitive: holding any
 * one of them is holding one unit. Each slot is an ordinary lock record contended through its
 * own {@link Contender} — the one acquisition path — so every backend gets semaphores and
 * reader slots with the mutex's rules: a slot is taken only when absent, released, or observed
 * expired, and a held slot is a renewed {@link HeldLease}.
 *
 * Waiting is the owner's; the slots feed a {@link Waker} from one watch per slot (started on
 * the first wait) and say how long to sleep: until the earliest observed expiry while every
 * watch is healthy, otherwise no later than the jittered retry period (polling).
 */
export class LockSlots {
  readonly names: readonly string[];
  private readonly context: MutexContext;
  private readonly waker: Waker;
  private readonly contenders: Contender[];
  private readonly watchHealthy: boolean[];
  private readers: Promise<ResourceLock[]> | undefined;
  private watchers: Array<{ lock: ResourceLock; stop: () => void }> | undefined;
  private sequence = 0;
  private closed = false;

  constructor(names: readonly string[], context: MutexContext, waker: Waker) {
    this.names = names;
    this.context = context;
    this.waker = waker;
    this.contenders = names.map(() => new Contender(context));
    this.watchHealthy = names.map(() => false);
  }

  /**
   * Starts one acquisition: one holder identity, and the slot locks it opens, kept across its
   * passes (opening a lock may cost a connection on some backends — not on the handover path).
   * End it with {@link LockSlots.endAcquisition}.
   */
  beginAcquisition(): SlotAcquisition {
    return { identity: `${this.context.identity}/${++this.sequence}`, locks: new Map() };
  }

  /** Closes the locks an acquisition opened and did not win with. */
  endAcquisition(acquisition: SlotAcquisition): void {
    for (const lock of acquisition.locks.values()) void lock.then((l) => l.close?.(), () => {});
    acquisition.locks.clear();
  }

  /**
   * One pass over the slots, starting at a random one (so processes spread out): each slot not
   * observed held by someone else gets one {@link Contender.attempt}.
   * @returns the slot won, or how long to wait before the next pass.
   * @throws what a contender's attempt throws (backend failures, corrupt records).
   */
  async attemptAny(acquisition: SlotAcquisition, signal?: AbortSignal): Promise<WonSlot | number> {
    const count = this.names.length;
    const start = Math.floor(this.context.random() * count) % count;
    let waitMs = Number.POSITIVE_INFINITY;
    let failure: { error: unknown } | undefined;
    let answered = false;
    for (let k = 0; k < count; k++) {
      const index = (start + k) % count;
      const contender = this.contenders[index]!;
      // Skipped only while what was observed is current: after "read again" or a watch going
      // up or down, the slot is tried (read) even if it was last seen held.
      if (contender.heldByOther(acquisition.identity) && !contender.mustRead) {
        waitMs = Math.min(waitMs, contender.delayAfter('held'));
        continue;
      }
      let opening = acquisition.locks.get(index);
      if (!opening) {
        opening = Promise.resolve(this.context.lockFor(this.names[index]!, acquisition.identity));
        acquisition.locks.set(index, opening);
        opening.catch(() => acquisition.locks.delete(index));
      }
      const lock = await opening;
      let attempt;
      try {
        attempt = await contender.attempt(lock, signal);
      } catch (error) {
        // A slow or failing call on one slot need not stop the pass: the others may answer.
        if (isPermanentError(error) || signal?.aborted) throw error;
        failure ??= { error };
        continue;
      }
      answered = true;
      if (attempt.acquired) {
        acquisition.locks.delete(index); // the held lease owns it now
        return { index, lock, snapshot: attempt.snapshot, writeStart: attempt.writeStart };
      }
      waitMs = Math.min(waitMs, contender.delayAfter(attempt.outcome));
    }
    if (failure && !answered) throw failure.error;
    return failure ? Math.min(waitMs, this.retryDelay()) : waitMs;
  }

  /** True when no slot is known to be held by someone else: nobody seems to be competing. */
  allLookFree(): boolean {
    return this.contenders.every((contender) => !contender.heldByOther(''));
  }

  /** Starts renewing a won slot. `label` names it in errors and logs. */
  hold(won: WonSlot, label: string): SlotLease {
    const { lock, index } = won;
    const { lease, ended, stopSession } = startLease(this.context, lock, won.snapshot, won.writeStart, label);
    const onReleased = (released: LockSnapshot | undefined): void => {
      stopSession?.();
      // The next local waiter can write on top of our release without reading first.
      if (released) this.contenders[index]!.offer(released);
      void lock.close?.();
    };
    return { lease, ended, onReleased };
  }

  /** Gives back a slot that was won but will not be handed out (a reader backing off, a failed token issue). */
  async giveBack(held: SlotLease): Promise<void> {
    held.ended.abort(() => new LockLostError('slot given back'));
    held.onReleased(held.lease.lost ? undefined : await held.lease.release());
  }

  /** Fresh reads of the slots at `indices` (never a pushed snapshot), in parallel, each bounded by retryPeriod. */
  async read(indices: readonly number[], signal?: AbortSignal): Promise<Array<LockSnapshot | null>> {
    const readers = await this.readLocks();
    return Promise.all(
      indices.map(async (index) => {
        const snapshot = await withDeadline(this.context.clock, this.context.retryPeriodMs, (s) => readers[index]!.get({ signal: s }), signal);
        this.contenders[index]!.observe(snapshot);
        return snapshot;
      }),
    );
  }

  /** Whether slot `index`'s watch is up (else its waiters poll). */
  watching(index: number): boolean {
    return this.watchHealthy[index]!;
  }

  /** The jittered retry period. */
  retryDelay(): number {
    return this.contenders[0]!.retryDelay();
  }

  /** Watches every slot until {@link LockSlots.close}, so a release wakes waiters at once. */
  async startWatching(): Promise<void> {
    if (this.watchers || this.closed) return;
    const watchers: Array<{ lock: ResourceLock; stop: () => void }> = [];
    this.watchers = watchers;
    await Promise.all(
      this.names.map(async (name, index) => {
        const lock = await this.context.lockFor(name, `${this.context.identity}/watch`);
        if (!lock.watch || this.watchers !== watchers) {
          await lock.close?.();
          return;
        }
        const watcher = { lock, stop: () => {} };
        watchers.push(watcher);
        watcher.stop = lock.watch({
          onChange: (snapshot) => {
            this.contenders[index]!.offer(snapshot);
            // A slot taken or renewed frees nothing: waiters already sleep until its observed
            // expiry at the latest. Only a release, a deletion or "read again" wakes them, so a
            // busy semaphore does not wake every waiter on every renewal.
            if (snapshot && snapshot.record.holderIdentity !== '' && !snapshot.holderGone) return;
            this.waker.wake();
          },
          onHealth: (healthy) => {
            if (this.watchers !== watchers) return;
            this.watchHealthy[index] = healthy;
            this.contenders[index]!.setWatchHealthy(healthy);
            // Whatever happened while the watch was down must be read again.
            this.waker.wake();
          },
        });
      }),
    );
  }

  /** Stops the watches and closes the read locks; held slots are unaffected. */
  close(): void {
    this.closed = true;
    const watchers = this.watchers ?? [];
    this.watchers = undefined;
    for (const { stop, lock } of watchers) {
      stop();
      void lock.close?.();
    }
    void this.readers?.then((locks) => locks.forEach((lock) => void lock.close?.()), () => {});
    this.readers = undefined;
    this.watchHealthy.fill(false);
    for (const contender of this.contenders) contender.setWatchHealthy(false);
  }

  private readLocks(): Promise<ResourceLock[]> {
    this.readers ??= Promise.all(this.names.map((name) => this.context.lockFor(name, `${this.context.identity}/read`)));
    return this.readers;
  }
}
