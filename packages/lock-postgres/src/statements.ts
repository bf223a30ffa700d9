/**
 * Every SQL statement the adapter runs, built once per table. Table and schema names are
 * validated identifiers, double-quoted; lock names, keys and record fields are always
 * parameters, never spliced in.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { TableName } from './keys.ts';

const names = new Map<string, string>();

/**
 * A named (server-side prepared) statement: parsed and planned once per connection. The name
 * is a hash of the text, so the same text always gets the same name and different tables
 * never collide.
 */
export function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `baton_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

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
  /** `$1` name, `$2`–`$7` record fields, `$8` channel → the stored row, or no row when the name exists. */
  readonly insert: string;
  /**
   * Compare-and-swap. `$1` name, `$2` expected version, `$3`–`$8` record fields, `$9` channel →
   * the stored row, or no row (stale version, missing, or a corrupt row that must not be replaced).
   *
   * The fencing token is the server's: a write that names a new holder, or asks for a larger
   * token, starts a term and gets `max(asked, stored + 1)`; any other write keeps
   * `max(asked, stored)`. So tokens on a row never go down, and every term gets a larger one.
   */
  readonly update: string;
  /**
   * {@link Statements.update} that also gives back the advisory lock `$10` when the swap
   * succeeds, in the same statement: the lock is free before the NOTIFY (sent at commit)
   * wakes anyone.
   */
  readonly updateAndUnlock: string;
  /** `$1` key → `locked`: took the session-level advisory lock. */
  readonly tryLock: string;
  /** `$1` key → `unlocked`. */
  readonly unlock: string;
  /** `LISTEN` on the table's channel. */
  readonly listen: string;
}

export function buildStatements(table: TableName, quotedChannel: string): Statements {
  const T = table.quoted;
  const update = (extraColumns = ''): string => `WITH written AS (
  UPDATE ${T} AS t SET
    holder_identity = $3::text,
    lease_duration_ms = $4::bigint,
    acquire_time_ms = $5::bigint,
    renew_time_ms = $6::bigint,
    leader_transitions = $7::bigint,
    fencing_token = CASE
      WHEN $3::text <> '' AND ($3::text IS DISTINCT FROM t.holder_identity OR $8::bigint > t.fencing_token)
        THEN GREATEST($8::bigint, t.fencing_token + 1)
      ELSE GREATEST($8::bigint, t.fencing_token)
    END,
    version = DEFAULT
  WHERE t.name = $1::text AND t.version = $2::bigint AND ${VALID_ROW('t')}
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

    insert: `WITH written AS (
  INSERT INTO ${T} (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
  VALUES ($1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7::bigint)
  ON CONFLICT (name) DO NOTHING
  RETURNING *
)
SELECT ${RECORD_COLUMNS('r')}, ${NOTIFY_WRITTEN('$8')}`,

    update: update(),
    updateAndUnlock: update(', pg_catalog.pg_advisory_unlock($10::bigint) AS unlocked'),

    tryLock: `SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS locked`,
    unlock: `SELECT pg_catalog.pg_advisory_unlock($1::bigint) AS unlocked`,
    listen: `LISTEN ${quotedChannel}`,
  };
}
