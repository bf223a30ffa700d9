/**
 * The one read after a write matched nothing: whether the token epoch was why (then the write
 * is tried again), why else (gone, corrupt, a newer version), and whether the stored record
 * still names this identity.
 */
import { LockConflictError, LockNotFoundError } from '@baton/core';
import type pg from 'pg';
import { decodeRow } from './codec.ts';
import type { RecordRow } from './codec.ts';
import { toLockError } from './errors.ts';
import type { PostgresLock } from './postgres-lock.ts';
import { prepared } from './prepared.ts';
import { EpochNotCurrentError } from './token-epoch.ts';

/** What the read needs: the pool, and `Statements.afterMiss`. */
export interface RecordReader {
  pool: pg.Pool;
  statements: { afterMiss: string };
}

/** What the read found: the stored record (`undefined`: none), or why it could not be read. */
export type MissRead = { row: RecordRow | undefined } | { failure: unknown };

/**
 * Reads `lock`'s record once, with the token epoch.
 * @throws EpochNotCurrentError when the epoch is stale — why a term write matched nothing; the
 * caller's write runs again once it is current (`TokenEpoch.retrying`).
 */
export async function readAfterMiss(reader: RecordReader, lock: PostgresLock): Promise<MissRead> {
  let row: (RecordRow & { epoch_current: boolean }) | undefined;
  try {
    row = (await reader.pool.query<RecordRow & { epoch_current: boolean }>(prepared(reader.statements.afterMiss, [lock.name]))).rows[0];
  } catch (failure) {
    return { failure };
  }
  if (row?.epoch_current !== true) throw new EpochNotCurrentError();
  return { row: row.version === null ? undefined : row };
}

/** Why a compare-and-swap matched no row: gone, corrupt (never overwritten), or a newer version. */
export function explainMiss(read: MissRead, lock: PostgresLock, expectedVersion: string): Error {
  if ('failure' in read) return toLockError(read.failure, lock.describe());
  const { row } = read;
  if (row === undefined) return new LockNotFoundError(`${lock.describe()} does not exist`);
  try {
    decodeRow(row, lock.describe());
  } catch (error) {
    return toLockError(error, lock.describe());
  }
  return new LockConflictError(`${lock.describe()} was modified (version ${row.version}, expected ${expectedVersion})`);
}

/** Whether the stored record still names `lock`'s identity; true when it could not be read (the expiry timer still bounds a hold kept). */
export function storedHolderIs(read: MissRead, lock: PostgresLock): boolean {
  if ('failure' in read) return true;
  return read.row !== undefined && read.row.holder_identity === lock.identity;
}
