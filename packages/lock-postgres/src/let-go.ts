// Writes that end this process's hold of a lock: a release, or a handover naming someone else.
import { rowSnapshot } from './codec.ts';
import type { RecordRow } from './codec.ts';
import type { HoldBook } from './holds.ts';
import type { PostgresLock } from './postgres-lock.ts';
import { readAfterMiss, storedHolderIs } from './record-reads.ts';
import type { MissRead, RecordReader } from './record-reads.ts';
import { prepared } from './statements.ts';
import type { Statements } from './statements.ts';
import type { LockSnapshot } from '@baton/core';
import type pg from 'pg';

/** What `releaseOrHandOver` returns (see statements.ts). */
interface ReleaseRow extends RecordRow {
  handed_over: boolean;
  unlocked: boolean;
}

/** What a write that lets go works with. */
export interface LetGoContext extends RecordReader {
  holds: HoldBook;
  statements: Statements;
  pool: pg.Pool;
}

/**
 * A write that does not name `lock`'s identity (a release, or a handover to someone else).
 * When this identity holds the advisory lock, the write runs on the session and the advisory
 * lock is given back in the same statement; otherwise it is a plain compare-and-swap through
 * the pool.
 *
 * `handOver` (a release through `ResourceLock.release`): the advisory lock goes back first,
 * and when a waiter at the server was granted it in that call nothing is written — `null`,
 * the waiter's statement writes its own term next (statements.ts, `releaseOrHandOver`).
 * Run inside the hold book's serialization of `lock.name`.
 */
export async function writeAndLetGo(
  context: LetGoContext,
  lock: PostgresLock,
  params: unknown[],
  miss: (read: () => Promise<MissRead>) => Promise<Error>,
  handOver: boolean,
): Promise<LockSnapshot | null> {
  const { holds, statements, pool } = context;
  const hold = holds.live(lock.name);
  const mine = hold !== undefined && hold.identity === lock.identity ? hold : undefined;
  let row: RecordRow | undefined;
  /** The statement gave the advisory lock back (`updateAndUnlock` does so only with its write). */
  let unlocked: boolean;
  if (mine === undefined) {
    row = (await pool.query<RecordRow>(prepared(statements.update, params))).rows[0];
    unlocked = false;
  } else if (handOver) {
    const [answer] = await mine.session.query<ReleaseRow>(mine.generation, statements.releaseOrHandOver, [...params, mine.key.toString()]);
    unlocked = answer?.unlocked === true;
    if (unlocked) holds.forget(lock.name, mine);
    if (answer?.handed_over === true) return null;
    row = answer?.version === null ? undefined : answer;
  } else {
    [row] = await mine.session.query<RecordRow>(mine.generation, statements.updateAndUnlock, [...params, mine.key.toString()]);
    unlocked = row !== undefined;
    if (unlocked) holds.forget(lock.name, mine);
  }
  if (row === undefined) {
    const read = await readAfterMiss(context, lock);
    const error = await miss(async () => read);
    // Keep the hold only while the advisory lock is still ours and the record names us.
    if (mine !== undefined && !unlocked && !storedHolderIs(read, lock)) await holds.letGo(lock.name, mine);
    throw error;
  }
  return rowSnapshot(row, lock.describe());
}
