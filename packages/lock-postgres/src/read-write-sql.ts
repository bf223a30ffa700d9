import type { TableName } from './keys.ts';

/**
 * The statements of the native reader-writer lock (see postgres-read-write.ts), built once per
 * table. Two session-level advisory locks per lock name: the *data* lock (readers share it, a
 * writer holds it exclusively) and the *gate* (held exclusively by the writer from the moment
 * it asks, so new readers back off: writer preference). The write counter is a row of the
 * record table. CASE evaluates its branches in order and these functions are volatile, so each
 * statement takes and gives back locks in the order written.
 */
export interface ReadWriteStatements {
  /**
   * `$1` data key, `$2` gate key, `$3` counter row, `$4` reader slot keys to try (bigint[]) →
   * `slot` (the slot key taken) and `result`: the write epoch (a decimal string) with a slot
   * and the data lock shared; or, with nothing held, `'full'` (every slot taken: maxReaders
   * reads), `'writing'` (a writer holds the data lock) or `'writer'` (a writer holds or waits
   * at the gate).
   */
  read: string;
  /**
   * `$1` data key, `$2` gate key, `$3` counter row, `$4` whether to try the data lock too →
   * `gate` (taken?), `token` (the counter, bumped when the gate was taken), `data` (taken?).
   */
  write: string;
  /** `$1` data key → `ok`: the data lock taken exclusively (no reader left). */
  drain: string;
  /** `$1` data key, `$2` slot key, `$3` channel, `$4` payload: gives back a read and tells the waiters. */
  releaseRead: string;
  /** `$1` data key, `$2` gate key, `$3` whether the data lock is held, `$4` channel, `$5` payload: gives back a write. */
  releaseWrite: string;
  /** Proves the session (and so its advisory locks) alive. */
  renew: string;
}

export function buildReadWriteStatements(table: TableName): ReadWriteStatements {
  const t = table.quoted;
  return {
    // A reader slot (the first of $4 free: LIMIT stops the scan there), then the data lock
    // shared, then a look at the gate; whatever was taken is given back on the way out.
    read: `WITH slot AS MATERIALIZED (
  SELECT s.key FROM unnest($4::bigint[]) AS s(key) WHERE pg_catalog.pg_try_advisory_lock(s.key) LIMIT 1)
SELECT (SELECT slot.key::text FROM slot) AS slot, CASE
  WHEN NOT EXISTS (SELECT 1 FROM slot) THEN 'full'
  WHEN NOT pg_catalog.pg_try_advisory_lock_shared($1::bigint) THEN
    CASE WHEN pg_catalog.pg_advisory_unlock((SELECT slot.key FROM slot)) THEN 'writing' ELSE 'writing' END
  WHEN NOT pg_catalog.pg_try_advisory_lock_shared($2::bigint) THEN
    (SELECT CASE WHEN u.data AND u.slot THEN 'writer' ELSE 'writer' END
     FROM (SELECT pg_catalog.pg_advisory_unlock_shared($1::bigint) AS data,
                  pg_catalog.pg_advisory_unlock((SELECT slot.key FROM slot)) AS slot) AS u)
  WHEN pg_catalog.pg_advisory_unlock_shared($2::bigint) THEN
    COALESCE((SELECT c.fencing_token::text FROM ${t} AS c WHERE c.name = $3::text), '0')
  ELSE 'writer'
END AS result`,
    write: `WITH gate AS MATERIALIZED (SELECT pg_catalog.pg_try_advisory_lock($2::bigint) AS ok),
bump AS (
  INSERT INTO ${t} AS c (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
  SELECT $3::text, '', 1, 0, 0, 0, 1 FROM gate WHERE gate.ok
  ON CONFLICT (name) DO UPDATE SET fencing_token = c.fencing_token + 1
  RETURNING c.fencing_token)
SELECT gate.ok AS gate, (SELECT b.fencing_token::text FROM bump AS b) AS token,
  CASE WHEN gate.ok AND $4::boolean THEN pg_catalog.pg_try_advisory_lock($1::bigint) ELSE false END AS data
FROM gate`,
    drain: `SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS ok`,
    releaseRead: `SELECT pg_catalog.pg_advisory_unlock_shared($1::bigint), pg_catalog.pg_advisory_unlock($2::bigint),
  pg_catalog.pg_notify($3::text, $4::text)`,
    releaseWrite: `SELECT pg_catalog.pg_advisory_unlock($2::bigint),
  CASE WHEN $3::boolean THEN pg_catalog.pg_advisory_unlock($1::bigint) END,
  pg_catalog.pg_notify($4::text, $5::text)`,
    renew: `SELECT 1`,
  };
}
