import type { TableName } from './keys.ts';

/**
 * The statements of the native semaphore (see postgres-semaphore.ts), built once per table: a
 * permit is one of `permits` session-level advisory locks (*slots*), taken in ONE statement
 * that tries the slots in turn (LIMIT stops the scan at the first taken) and, when it took one,
 * bumps the semaphore's token counter, a row of the record table that also stores the permit
 * count (in `leader_transitions`, as the slot records' counter does).
 */
export interface SemaphoreStatements {
  /**
   * `$1` slot keys to try (bigint[]), `$2` counter row, `$3` permits → `slot` (the key taken,
   * or null), `token` (bumped when a slot was taken), `permits` (the count stored).
   */
  acquire: string;
  /** `$1` slot key, `$2` channel, `$3` payload: gives a permit back and tells the waiters. */
  release: string;
}

export function buildSemaphoreStatements(table: TableName): SemaphoreStatements {
  return {
    acquire: `WITH slot AS MATERIALIZED (
  SELECT s.key FROM unnest($1::bigint[]) AS s(key) WHERE pg_catalog.pg_try_advisory_lock(s.key) LIMIT 1),
bump AS (
  INSERT INTO ${table.quoted} AS c (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
  SELECT $2::text, '', 1, 0, 0, $3::bigint, 1 FROM slot
  ON CONFLICT (name) DO UPDATE SET fencing_token = c.fencing_token + 1
  RETURNING c.fencing_token, c.leader_transitions)
SELECT (SELECT slot.key::text FROM slot) AS slot, (SELECT b.fencing_token::text FROM bump AS b) AS token,
  (SELECT b.leader_transitions::text FROM bump AS b) AS permits`,
    release: `SELECT pg_catalog.pg_advisory_unlock($1::bigint), pg_catalog.pg_notify($2::text, $3::text)`,
  };
}
