import type { AcquireWhenFreeResult, Clock, LeaderElectionRecord, LockSnapshot } from '@baton/core';
import { abortError } from './abort.ts';
import type { ChangeFeed } from './change-feed.ts';
import { rowSnapshot } from './codec.ts';
import type { RecordRow } from './codec.ts';
import type { Hold, HoldBook } from './holds.ts';
import type { PostgresLock } from './postgres-lock.ts';
import type { SessionConnection } from './session.ts';
import type { Statements } from './statements.ts';
import type { TokenEpoch } from './token-epoch.ts';

/** What {@link ServerWaits} works with: dedicated session connections, and the factory's book of holds. */
export interface ServerWaitSettings {
  /** Session connections used for nothing else: a blocked statement would stall anything queued behind it. */
  sessions: readonly SessionConnection[];
  statements: Statements;
  channel: string;
  holds: HoldBook;
  feed: ChangeFeed;
  /** The table's token epoch, made current when a wait finds it stale. */
  epoch: TokenEpoch;
  clock: Clock;
  /** Creates or checks the table (once). */
  ready(signal: AbortSignal): Promise<void>;
}

/** SQLSTATE lock_not_available: `lock_timeout` ended the wait, nothing was taken. */
const LOCK_TIMEOUT = '55P03';

const NOT_WAITED: AcquireWhenFreeResult = Object.freeze({ acquired: false, waited: false });
const STILL_HELD: AcquireWhenFreeResult = Object.freeze({ acquired: false, waited: true });

/**
 * Distributed-lock waiters that wait AT THE SERVER (`ResourceLock.acquireWhenFree`): a
 * waiter blocks in `pg_advisory_lock` on a session connection of its own, and PostgreSQL
 * grants it the advisory lock the instant the holder's release (or the end of its session)
 * frees it; the same statement writes the new term. A handover then costs no NOTIFY, no
 * wake-up of every waiter and no second statement — and exactly one waiter (the first in
 * PostgreSQL's queue) is woken.
 *
 * The connection the wait ran on becomes the session holding the lock (renewals and release
 * run there, and the lock is lost with it, as on any session). A connection waits only while
 * it holds nothing else, so a blocked statement never delays another lock's renewal; with
 * every one busy, a waiter waits for the NOTIFY instead (`waited: false`).
 */
export class ServerWaits {
  private readonly settings: ServerWaitSettings;
  private readonly waiting = new Set<SessionConnection>();

  constructor(settings: ServerWaitSettings) {
    this.settings = settings;
  }

  async acquireWhenFree(lock: PostgresLock, record: LeaderElectionRecord, maxWaitMs: number, signal: AbortSignal): Promise<AcquireWhenFreeResult> {
    const { holds, statements, clock } = this.settings;
    // Held or being acquired in this process: advisory locks are re-entrant per session, and
    // local order is the hold book's; wait for the release's NOTIFY.
    if (holds.live(lock.name) !== undefined || holds.busy(lock.name)) return NOT_WAITED;
    const session = this.settings.sessions.find((s) => !this.waiting.has(s) && !holds.holdsOn(s));
    if (session === undefined) return NOT_WAITED;
    this.waiting.add(session);
    const onAbort = (): void => session.abandon('a wait for an advisory lock was abandoned');
    try {
      await this.settings.ready(signal);
      const generation = await session.open();
      if (signal.aborted) throw abortError(signal);
      signal.addEventListener('abort', onAbort, { once: true });
      const started = clock.now();
      const fields = [record.holderIdentity, record.leaseDurationMs, record.acquireTime, record.renewTime, record.leaderTransitions, record.fencingToken];
      const waitMs = String(Math.max(1, Math.floor(maxWaitMs)));
      let row: (RecordRow & { epoch_ok: boolean }) | undefined;
      try {
        [row] = await session.query<RecordRow & { epoch_ok: boolean }>(generation, statements.acquireWhenFree, [lock.name, ...fields, this.settings.channel, lock.key.toString(), waitMs]);
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        if ((error as { code?: unknown }).code === LOCK_TIMEOUT) return STILL_HELD;
        // Granted, then failed (the advisory lock outlives the statement): give it back.
        await session.query(generation, statements.unlock, [lock.key.toString()]).catch(() => {});
        throw error;
      }
      // The server restarted since the token epoch was set: nothing written, the lock given
      // back. Made current, the next attempt writes.
      if (row?.epoch_ok === false) await this.settings.epoch.ensure();
      // Row gone or corrupt: nothing written, the lock given back. A fresh attempt reads it.
      if (row === undefined || row.version === null) return STILL_HELD;
      let snapshot: LockSnapshot;
      try {
        snapshot = rowSnapshot(row, lock.describe());
      } catch (error) {
        await session.query(generation, statements.unlock, [lock.key.toString()]).catch(() => {});
        throw error;
      }
      const hold: Hold = { identity: lock.identity, key: lock.key, session, generation, expiry: undefined };
      holds.add(lock.name, hold);
      // The lease counts from when the wait was sent: the hold expires early, never late.
      holds.armExpiry(lock.name, hold, started, snapshot.record.leaseDurationMs);
      this.settings.feed.sawRecord(lock.name, snapshot, true);
      return { acquired: true, snapshot };
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.waiting.delete(session);
    }
  }
}
