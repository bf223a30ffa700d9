/** Reads of a lock's stored record after a write matched nothing: why, and whether it is still ours. */
import { LockConflictError, LockNotFoundError } from '@baton/core';
import type pg from 'pg';
import { decodeRow } from './codec.ts';
import type { RecordRow } from './codec.ts';
import { toLockError } from './errors.ts';
import type { PostgresLock } from './postgres-lock.ts';
import { prepared } from './prepared.ts';

/** What the reads need: the pool, and the statement that reads one record (`Statements.current`). */
export interface RecordReader {
  pool: pg.Pool;
  statements: { current: string };
}

function current(reader: RecordReader, lock: PostgresLock): Promise<RecordRow | undefined> {
  return reader.pool.query<RecordRow>(prepared(reader.statements.current, [lock.name])).then((result) => result.rows[0]);
}

/** Why a compare-and-swap matched no row: gone, corrupt (never overwritten), or a newer version. */
export async function explainMiss(reader: RecordReader, lock: PostgresLock, expectedVersion: string): Promise<Error> {
  try {
    const row = await current(reader, lock);
    if (row === undefined) return new LockNotFoundError(`${lock.describe()} does not exist`);
    decodeRow(row, lock.describe());
    return new LockConflictError(`${lock.describe()} was modified (version ${row.version}, expected ${expectedVersion})`);
  } catch (error) {
    return toLockError(error, lock.describe());
  }
}

/** Whether the stored record still names `lock`'s identity; true when it cannot be read (the expiry timer still bounds a hold kept). */
export async function storedHolderIs(reader: RecordReader, lock: PostgresLock): Promise<boolean> {
  try {
    const row = await current(reader, lock);
    return row !== undefined && row.holder_identity === lock.identity;
  } catch {
    return true;
  }
}
