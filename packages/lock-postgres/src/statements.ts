/**
 * Every SQL statement the adapter runs, built once per table. Table and schema names are
 * validated identifiers, double-quoted; lock names, keys and record fields are always
 * parameters, never spliced in.
 */
import type { TableName } from './keys.ts';
import { COMMIT_ASYNC, EPOCH_CTE, EPOCH_FLOOR, EPOCH_OK } from './token-epoch.ts';

export { prepared } from './prepared.ts';

/** Largest integer a record field may hold (JavaScript's `Number.MAX_SAFE_INTEGER`). */
const MAX_SAFE = '9007199254740991';

/** The record columns, as read back by every statement. */
const RECORD_COLUMNS = (alias: string): string =>
  [
    'holder_identity',
    'lease_duration_ms',
    'acquire_time_ms',
    'renew_time_ms',
    'leader_transitions',
    'fencing_token',
  ]
    .map((c) => `${alias}.${c}`)
    .join(', ') + `, ${alias}.version::text AS version`;

/** The 64-bit keys of advisory locks granted in this database, in the form `pg_try_advisory_lock(bigint)` takes. */
const HELD_KEYS = `SELECT DISTINCT ((l.classid::bigint << 32) | l.objid::bigint) AS key
  FROM pg_catalog.pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())`;

/**
 * A row baton may overwrite: every field present and in range. A corrupt row fails this, so a
 * compare-and-swap never replaces it even with its current version.
 */
const VALID_ROW = (t: string): string =>
  `${t}.holder_identity IS NOT NULL
    AND ${t}.lease_duration_ms BETWEEN 1 AND ${MAX_SAFE}
    AND ${t}.acquire_time_ms BETWEEN 0 AND ${MAX_SAFE}
    AND ${t}.renew_time_ms BETWEEN 0 AND ${MAX_SAFE}
    AND ${t}.leader_transitions BETWEEN 0 AND ${MAX_SAFE}
    AND ${t}.fencing_token BETWEEN 0 AND ${MAX_SAFE}`;

/**
 * The NOTIFY payload of a written row `r`: the whole record as JSON, or `{}` when that would
 * pass PostgreSQL's 8000-byte payload limit (listeners then re-read).
 */
const NOTIFY_WRITTEN = (channelParam: string, extraColumns = ''): string => `pg_catalog.pg_notify(${channelParam}::text,
    CASE WHEN pg_catalog.octet_length(p.payload) < 8000 THEN p.payload ELSE '{}' END) AS notified${extraColumns}
  FROM written r CROSS JOIN LATERAL (SELECT pg_catalog.json_build_object(
    'name', r.name, 'version', r.version::text, 'holderIdentity', r.holder_identity,
    'leaseDurationMs', r.lease_duration_ms, 'acquireTime', r.acquire_time_ms, 'renewTime', r.renew_time_ms,
    'leaderTransitions', r.leader_transitions, 'fencingToken', r.fencing_token)::text AS payload) p`;

/** The statements for one record table. */
export interface Statements {
  /** `$1` name, `$2` key → the record and whether any session holds the key, or no row. */
  readonly get: string;
  /** `$1` names[], `$2` keys[] → one row per name: the record (columns null when missing) and `held`. */
  readonly poll: string;
  /** `$1` name → the record, or no row. */
  readonly current: string;
  /**
   * `$1` name → ONE row: `epoch_current` (whether the token epoch belongs to the running
   * server) and the record columns (null when there is no record). Read once after a write
   * matched nothing: it says whether the epoch was why, what is stored, and who holds it.
   */
  readonly afterMiss: string;
  /**
   * `$1` name, `$2`–`$7` record fields, `$8` channel → the stored row, or no row when the name
   * exists or the token epoch is stale (see token-epoch.ts; the token is at least its floor).
   */
  readonly insert: string;
  /**
   * Compare-and-swap. `$1` name, `$2` expected version, `$3`–`$8` record fields, `$9` channel →
   * the stored row, or no row (stale version, missing, or a corrupt row that must not be replaced).
   *
   * The fencing token is the server's: a write that names a new holder, or asks for a larger
   * token, starts a term and gets `max(asked, stored + 1, epoch floor)` — and is written only
   * while the token epoch is current (token-epoch.ts); any other write keeps
   * `max(asked, stored)`. So tokens on a row never go down, and every term gets a larger one.
   */
  readonly update: string;
  /**
   * {@link Statements.update} that also gives back the advisory lock `$10` when the swap
   * succeeds, in the same statement: the lock is free before the NOTIFY (sent at commit)
   * wakes anyone. It commits without waiting for the WAL flush (`synchronous_commit = off`
   * for this one transaction): a write that gives a lock up may be lost only in a server
   * crash, which ends every session and so every advisory lock with it — the record then
   * names a holder whose session is gone (`holderGone`), and no term or token depends on the
   * lost write.
   */
  readonly updateAndUnlock: string;
  /**
   * A release (`$3` empty) on the session that holds the advisory lock `$10`, ONE statement
   * that lets a waiter blocked at the server take over without waiting on this write: when
   * the record still has version `$2`, it gives the advisory lock back FIRST. PostgreSQL
   * grants a waiter the lock inside that call; `pg_try_advisory_lock_shared` then fails, and
   * nothing more is written or notified (`handed_over`): the waiter's own statement writes
   * its term over this one's at once, instead of blocking on this row until this commits. (A
   * contender's `pg_try_advisory_lock` landing between the two looks the same; its
   * `acquireIfFree` then takes the term over the record that still names this holder.) When
   * nobody took it, the shared lock keeps new waiters out while the release is written as
   * {@link Statements.updateAndUnlock} writes it, and is given back. → one row:
   * `handed_over`, `unlocked` (the advisory lock was given back), and the written record
   * columns (null when nothing was written).
   */
  readonly releaseOrHandOver: string;
  /**
   * {@link Statements.update} that first takes the advisory lock `$10` (`pg_try_advisory_lock`)
   * and writes only when it got it, in ONE statement; a lock taken for a write that then
   * matched no row is given back in the same statement. → one row: `locked`, `epoch_ok`
   * (false: the token epoch is stale and nothing was written), and the record columns (null
   * when nothing was written). A written term commits without waiting for the WAL flush; the
   * epoch keeps its token above any a crash could lose (token-epoch.ts).
   */
  readonly lockAndUpdate: string;
  /** {@link Statements.insert} likewise: `$9` key → one row: `locked`, and the record columns (null when nothing was written). */
  readonly lockAndInsert: string;
  /**
   * The fast path (`acquireIfFree`), ONE statement: takes the advisory lock `$9`; when it got
   * it and the record `$1` is absent, inserts `$2`–`$7`; when it got it and the record is
   * valid, writes the new term over it (transition counted, token `max($7, stored + 1, epoch
   * floor)`) — released, or naming a holder whose hold is gone: every term is written under
   * the advisory lock and holds it to its end, so a free advisory lock means no live holder
   * (`holderGone`; a release handed to a waiter that has not written yet leaves one too).
   * Otherwise writes nothing, gives the advisory lock back if it took it, and returns what is
   * stored. `$8` channel. → one row:
   * `locked`, `acquired`, `epoch_ok` (false: stale, nothing written), and the written or
   * stored record columns (null when there is no record). A written term commits without
   * waiting for the WAL flush (token-epoch.ts says why its token stays safe).
   */
  readonly acquireIfFree: string;
  /**
   * The wait at the server (`acquireWhenFree`), ONE statement: blocks in
   * `pg_advisory_lock($9)` for at most `$10` ms (`lock_timeout`, this transaction only; a
   * timeout is SQLSTATE 55P03 and takes nothing). Granted — the holder released it or its
   * session ended — it writes the new term `$2`–`$7` over the record `$1` whatever it names
   * (transition counted, token `max($7, stored + 1, epoch floor)`), committing without waiting
   * for the WAL flush like every acquisition (token-epoch.ts). The statement's snapshot predates the grant, so the UPDATE matches the row
   * by name only and PostgreSQL re-reads its newest version after the wait (READ COMMITTED
   * re-check): the holder's release, or its last renewal, is what gets overwritten. A row
   * gone or corrupt by then is not written and the advisory lock is given back. `$8`
   * channel. → one row: `epoch_ok` (false: stale, nothing written, the lock given back) and
   * the written record columns (null when nothing was written).
   */
  readonly acquireWhenFree: string;
  /** `$1` key → `locked`: took the session-level advisory lock. */
  readonly tryLock: string;
  /** `$1` key → `unlocked`. */
  readonly unlock: string;
  /** `LISTEN` on the table's channel. */
  readonly listen: string;
}

/**
 * The SET list that starts a new term over the row `t` (`$2`–`$5` the new record's holder,
 * lease and times): the transition counted, the token `max($7, stored + 1)`.
 */
const NEW_TERM_SET = `holder_identity = $2::text,
    lease_duration_ms = $3::bigint,
    acquire_time_ms = $4::bigint,
    renew_time_ms = $5::bigint,
    leader_transitions = t.leader_transitions + 1,
    fencing_token = GREATEST($7::bigint, t.fencing_token + 1, ${EPOCH_FLOOR}),
    version = DEFAULT`;

/** The NOTIFY payload of the row `r` (see {@link NOTIFY_WRITTEN}), as an expression. */
const PAYLOAD = (r: string): string => `pg_catalog.json_build_object(
    'name', ${r}.name, 'version', ${r}.version::text, 'holderIdentity', ${r}.holder_identity,
    'leaseDurationMs', ${r}.lease_duration_ms, 'acquireTime', ${r}.acquire_time_ms, 'renewTime', ${r}.renew_time_ms,
    'leaderTransitions', ${r}.leader_transitions, 'fencingToken', ${r}.fencing_token)::text`;

/** `pg_notify` on `channelParam` of the payload `p.payload` (see {@link PAYLOAD}), or `{}` when it is too large. */
const NOTIFY_PAYLOAD = (channelParam: string): string => `pg_catalog.pg_notify(${channelParam}::text,
    CASE WHEN pg_catalog.octet_length(p.payload) < 8000 THEN p.payload ELSE '{}' END)`;

/**
 * Takes the advisory lock `keyParam` first and runs `write` (a data-modifying statement over
 * `${T} AS t` that must add `lk.locked AND` to its condition through `FROM lk`) only when it
 * got it; gives the lock back in the same statement when nothing was written. Session-level
 * advisory locks survive the statement, so a write that commits keeps it.
 */
const LOCKED_WRITE = (table: string, keyParam: string, channelParam: string, write: string): string => `WITH ${EPOCH_CTE(table)},
lk AS MATERIALIZED (
  SELECT pg_catalog.pg_try_advisory_lock(${keyParam}::bigint) AS locked
),
written AS (
${write}
)
SELECT l.locked, ${EPOCH_OK} AS epoch_ok, ${RECORD_COLUMNS('r')},
  CASE WHEN r.name IS NOT NULL THEN ${NOTIFY_PAYLOAD(channelParam)} END AS notified,
  CASE WHEN r.name IS NOT NULL THEN ${COMMIT_ASYNC} END AS commit_mode,
  CASE WHEN l.locked AND r.name IS NULL THEN pg_catalog.pg_advisory_unlock(${keyParam}::bigint) END AS unlocked
FROM lk l LEFT JOIN written r ON true
LEFT JOIN LATERAL (SELECT ${PAYLOAD('r')} AS payload) p ON r.name IS NOT NULL`;

export function buildStatements(table: TableName, quotedChannel: string): Statements {
  const T = table.quoted;
  const insertValues = `(name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)`;
  // A write that starts a term: see Statements.update. It is written only in a current epoch.
  const startsTerm = `$3::text <> '' AND ($3::text IS DISTINCT FROM t.holder_identity OR $8::bigint > t.fencing_token)`;
  const termInEpoch = `(NOT (${startsTerm}) OR ${EPOCH_OK})`;
  // The compare-and-swap's SET list; see Statements.update for the fencing rule.
  const setRecord = `holder_identity = $3::text,
    lease_duration_ms = $4::bigint,
    acquire_time_ms = $5::bigint,
    renew_time_ms = $6::bigint,
    leader_transitions = $7::bigint,
    fencing_token = CASE
      WHEN ${startsTerm} THEN GREATEST($8::bigint, t.fencing_token + 1, ${EPOCH_FLOOR})
      ELSE GREATEST($8::bigint, t.fencing_token)
    END,
    version = DEFAULT`;
  const update = (extraColumns = ''): string => `WITH ${EPOCH_CTE(T)},
written AS (
  UPDATE ${T} AS t SET ${setRecord}
  WHERE t.name = $1::text AND t.version = $2::bigint AND ${VALID_ROW('t')} AND ${termInEpoch}
  RETURNING t.*
)
SELECT ${RECORD_COLUMNS('r')}, ${NOTIFY_WRITTEN('$9', extraColumns)}`;
  return {
    get: `SELECT ${RECORD_COLUMNS('t')},
  EXISTS (SELECT 1 FROM (${HELD_KEYS}) h WHERE h.key = $2::bigint) AS held
FROM ${T} t WHERE t.name = $1::text`,

    poll: `SELECT w.name, ${RECORD_COLUMNS('t')}, (t.name IS NOT NULL) AS found, (h.key IS NOT NULL) AS held
FROM unnest($1::text[], $2::bigint[]) AS w(name, key)
LEFT JOIN ${T} t ON t.name = w.name
LEFT JOIN (${HELD_KEYS}) h ON h.key = w.key`,

    current: `SELECT ${RECORD_COLUMNS('t')} FROM ${T} t WHERE t.name = $1::text`,

    afterMiss: `WITH ${EPOCH_CTE(T)}
SELECT ${EPOCH_OK} AS epoch_current, ${RECORD_COLUMNS('t')}
FROM (SELECT 1) AS one LEFT JOIN ${T} t ON t.name = $1::text`,

    insert: `WITH ${EPOCH_CTE(T)},
written AS (
  INSERT INTO ${T} ${insertValues}
  SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint, GREATEST($7::bigint, ${EPOCH_FLOOR}) WHERE ${EPOCH_OK}
  ON CONFLICT (name) DO NOTHING
  RETURNING *
)
SELECT ${RECORD_COLUMNS('r')}, ${NOTIFY_WRITTEN('$8')}`,

    update: update(),
    updateAndUnlock: update(
      `, pg_catalog.pg_advisory_unlock($10::bigint) AS unlocked, pg_catalog.set_config('synchronous_commit', 'off', true) AS commit_mode`,
    ),

    releaseOrHandOver: `WITH ${EPOCH_CTE(T)},
cas AS MATERIALIZED (
  SELECT pg_catalog.pg_advisory_unlock($10::bigint) AS unlocked FROM ${T} t WHERE t.name = $1::text AND t.version = $2::bigint
),
s AS MATERIALIZED (
  SELECT c.unlocked, pg_catalog.pg_try_advisory_lock_shared($10::bigint) AS shared FROM cas c
),
written AS (
  UPDATE ${T} AS t SET ${setRecord}
  FROM s WHERE s.shared AND t.name = $1::text AND t.version = $2::bigint AND ${VALID_ROW('t')} AND ${termInEpoch}
  RETURNING t.*
)
SELECT COALESCE(s.unlocked AND NOT s.shared, false) AS handed_over, COALESCE(s.unlocked, false) AS unlocked, ${RECORD_COLUMNS('r')},
  CASE WHEN r.name IS NOT NULL THEN ${NOTIFY_PAYLOAD('$9')} END AS notified,
  CASE WHEN s.shared THEN pg_catalog.pg_advisory_unlock_shared($10::bigint) END AS unshared,
  ${COMMIT_ASYNC} AS commit_mode
FROM (SELECT 1) AS one LEFT JOIN s ON true LEFT JOIN written r ON true
LEFT JOIN LATERAL (SELECT ${PAYLOAD('r')} AS payload) p ON r.name IS NOT NULL`,

    lockAndUpdate: LOCKED_WRITE(
      T,
      '$10',
      '$9',
      `  UPDATE ${T} AS t SET ${setRecord}
  FROM lk WHERE lk.locked AND t.name = $1::text AND t.version = $2::bigint AND ${VALID_ROW('t')} AND ${termInEpoch}
  RETURNING t.*`,
    ),

    lockAndInsert: LOCKED_WRITE(
      T,
      '$9',
      '$8',
      `  INSERT INTO ${T} ${insertValues}
  SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint, GREATEST($7::bigint, ${EPOCH_FLOOR}) FROM lk WHERE lk.locked AND ${EPOCH_OK}
  ON CONFLICT (name) DO NOTHING
  RETURNING *`,
    ),

    acquireIfFree: `WITH ${EPOCH_CTE(T)},
lk AS MATERIALIZED (
  SELECT pg_catalog.pg_try_advisory_lock($9::bigint) AS locked
),
cur AS MATERIALIZED (SELECT t.* FROM ${T} t WHERE t.name = $1::text),
inserted AS (
  INSERT INTO ${T} ${insertValues}
  SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint, GREATEST($7::bigint, ${EPOCH_FLOOR})
  FROM lk WHERE lk.locked AND ${EPOCH_OK} AND NOT EXISTS (SELECT 1 FROM cur)
  ON CONFLICT (name) DO NOTHING
  RETURNING *
),
updated AS (
  UPDATE ${T} AS t SET
    ${NEW_TERM_SET}
  FROM lk WHERE lk.locked AND ${EPOCH_OK} AND t.name = $1::text AND ${VALID_ROW('t')}
  RETURNING t.*
),
written AS (SELECT * FROM inserted UNION ALL SELECT * FROM updated),
answer AS (
  SELECT w.*, true AS acquired FROM written w
  UNION ALL
  SELECT c.*, false AS acquired FROM cur c WHERE NOT EXISTS (SELECT 1 FROM written)
)
SELECT l.locked, COALESCE(r.acquired, false) AS acquired, ${EPOCH_OK} AS epoch_ok, ${RECORD_COLUMNS('r')},
  CASE WHEN r.acquired THEN ${NOTIFY_PAYLOAD('$8')} END AS notified,
  CASE WHEN r.acquired THEN ${COMMIT_ASYNC} END AS commit_mode,
  CASE WHEN l.locked AND r.acquired IS NOT TRUE THEN pg_catalog.pg_advisory_unlock($9::bigint) END AS unlocked
FROM lk l LEFT JOIN answer r ON true
LEFT JOIN LATERAL (SELECT ${PAYLOAD('r')} AS payload) p ON r.acquired`,

    acquireWhenFree: `WITH ${EPOCH_CTE(T)},
lk AS MATERIALIZED (
  -- $6 (the transitions the caller counted) is unused: the stored count + 1 is the new term's.
  SELECT true AS locked, $6::bigint AS transitions_asked FROM (
    SELECT pg_catalog.pg_advisory_lock($9::bigint) AS granted
    FROM (SELECT pg_catalog.set_config('lock_timeout', $10::text, true) AS lock_timeout OFFSET 0) cfg OFFSET 0) g
),
written AS (
  UPDATE ${T} AS t SET
    ${NEW_TERM_SET}
  FROM lk WHERE ${EPOCH_OK} AND t.name = $1::text AND ${VALID_ROW('t')}
  RETURNING t.*
)
SELECT ${EPOCH_OK} AS epoch_ok, ${RECORD_COLUMNS('r')},
  CASE WHEN r.name IS NOT NULL THEN ${NOTIFY_PAYLOAD('$8')} END AS notified,
  CASE WHEN r.name IS NOT NULL THEN ${COMMIT_ASYNC} END AS commit_mode,
  CASE WHEN r.name IS NULL THEN pg_catalog.pg_advisory_unlock($9::bigint) END AS unlocked
FROM lk l LEFT JOIN written r ON true
LEFT JOIN LATERAL (SELECT ${PAYLOAD('r')} AS payload) p ON r.name IS NOT NULL`,

    tryLock: `SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS locked`,
    unlock: `SELECT pg_catalog.pg_advisory_unlock($1::bigint) AS unlocked`,
    listen: `LISTEN ${quotedChannel}`,
  };
}
