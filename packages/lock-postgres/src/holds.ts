import type { Clock, Logger, TimerHandle } from '@baton/core';
import type { SessionConnection } from './session.ts';

/** An advisory lock this process holds on a session connection, for one lock name. */
export interface Hold {
  readonly identity: string;
  readonly key: bigint;
  readonly session: SessionConnection;
  /** The connection of `session` it was taken on; it lasts exactly as long as that connection. */
  readonly generation: number;
  /** Lets go of the hold when it was not renewed within the lease duration it last wrote. */
  expiry: TimerHandle | undefined;
}

/** What a {@link HoldBook} needs from its factory. */
export interface HoldBookSettings {
  clock: Clock;
  logger: Logger;
  /** `$1` key → gives back the session-level advisory lock. */
  unlockStatement: string;
  /** `describe()` of the lock called `name`, for logs. */
  describe(name: string): string;
}

/**
 * The advisory locks this process holds, one per lock name, and the per-name order of
 * operations that keeps them in step with the server: every operation that may take or give
 * back an advisory lock runs through {@link HoldBook.serialize}, so the local book always
 * matches what the session connection holds.
 *
 * A hold lives exactly as long as the session connection it was taken on (its generation),
 * and no longer than the lease it last wrote (the expiry timer, on the injected clock): the
 * advisory lock never outlives a lease its holder stopped renewing.
 */
export class HoldBook {
  private readonly settings: HoldBookSettings;
  private readonly holds = new Map<string, Hold>();
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;

  constructor(settings: HoldBookSettings) {
    this.settings = settings;
  }

  /** The live hold on `name`, dropping one whose session connection is gone. */
  live(name: string): Hold | undefined {
    const hold = this.holds.get(name);
    if (hold !== undefined && hold.generation !== hold.session.liveGeneration) {
      this.forget(name, hold);
      return undefined;
    }
    return hold;
  }

  /** Records a hold just taken on the server. */
  add(name: string, hold: Hold): void {
    this.holds.set(name, hold);
  }

  /** True while `identity` holds `name`'s advisory lock on a live session. */
  isHeldBy(name: string, identity: string): boolean {
    const hold = this.holds.get(name);
    return hold !== undefined && hold.identity === identity && hold.generation === hold.session.liveGeneration;
  }

  /** True while an operation on `name` is in flight (it may be taking the advisory lock right now). */
  busy(name: string): boolean {
    return this.chains.has(name);
  }

  /** True while any hold lives on `session`'s open connection. */
  holdsOn(session: SessionConnection): boolean {
    for (const hold of this.holds.values()) if (hold.session === session && hold.generation === session.liveGeneration) return true;
    return false;
  }

  /** Names held on a live session right now. */
  heldNames(): string[] {
    return [...this.holds].filter(([, hold]) => hold.generation === hold.session.liveGeneration).map(([name]) => name);
  }

  /**
   * A hold not renewed within the lease it last wrote is let go, so the advisory lock never
   * outlives the lease: followers may then take over as they would at expiry. (An elector's
   * leader steps down at renewDeadline, earlier.) `writeStart` is the clock's `now()` when
   * the write was sent.
   */
  armExpiry(name: string, hold: Hold, writeStart: number, leaseDurationMs: number): void {
    const { clock, logger, describe } = this.settings;
    this.clearExpiry(hold);
    if (this.closed || this.holds.get(name) !== hold) return;
    hold.expiry = clock.setTimeout(
      () => {
        hold.expiry = undefined;
        if (this.holds.get(name) !== hold) return;
        logger.info({ lock: describe(name) }, 'baton postgres: lease not renewed in time; releasing its advisory lock');
        void this.serialize(name, () => this.letGo(name, hold));
      },
      Math.max(0, writeStart + leaseDurationMs - clock.now()),
    );
  }

  /** Forgets `hold` without touching the server. @returns whether it was the current hold. */
  forget(name: string, hold: Hold): boolean {
    this.clearExpiry(hold);
    if (this.holds.get(name) !== hold) return false;
    this.holds.delete(name);
    return true;
  }

  /** Forgets `hold` and unlocks its key on the session (best effort: a dead session held nothing). */
  async letGo(name: string, hold: Hold): Promise<void> {
    if (!this.forget(name, hold)) return;
    if (hold.generation !== hold.session.liveGeneration) return;
    try {
      await hold.session.query(hold.generation, this.settings.unlockStatement, [hold.key.toString()]);
    } catch (error) {
      this.settings.logger.debug({ lock: this.settings.describe(name), error: (error as Error).message }, 'baton postgres: unlock failed');
    }
  }

  /**
   * Drops every hold taken on `generation` of `session`, which is gone with its advisory locks.
   * @returns the names and identities that held them.
   */
  sessionLost(session: SessionConnection, generation: number): Array<{ name: string; identity: string }> {
    const lost: Array<{ name: string; identity: string }> = [];
    for (const [name, hold] of [...this.holds]) {
      if (hold.session !== session || hold.generation !== generation) continue;
      this.forget(name, hold);
      lost.push({ name, identity: hold.identity });
    }
    return lost;
  }

  /** Runs one operation per lock name at a time, so local holds always match the server. */
  serialize<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(name);
    const result = previous === undefined ? operation() : previous.then(operation);
    const settled = result.then(
      () => {},
      () => {},
    );
    this.chains.set(name, settled);
    void settled.then(() => {
      if (this.chains.get(name) === settled) this.chains.delete(name);
    });
    return result;
  }

  /** Waits for every operation in flight, then forgets every hold (the sessions are closed). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.chains.values()]);
    for (const [name, hold] of [...this.holds]) this.forget(name, hold);
  }

  private clearExpiry(hold: Hold): void {
    if (hold.expiry !== undefined) this.settings.clock.clearTimeout(hold.expiry);
    hold.expiry = undefined;
  }
}
