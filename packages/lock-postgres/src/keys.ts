import { createHash } from 'node:crypto';

/** A validated `schema.table`, with its quoted form for SQL. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"`, safe to splice into SQL (both parts validated, then quoted). */
  readonly quoted: string;
}

/** Double-quotes an identifier already checked by `validateIdentifier`. */
export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

export function tableName(schema: string, table: string): TableName {
  return { schema, table, quoted: `${quoteIdentifier(schema)}.${quoteIdentifier(table)}` };
}

/**
 * The 64-bit key of the session-level advisory lock that guards `name` in `schema.table`:
 * the first 8 bytes of `sha256("baton:<schema>.<table>:<name>")` (UTF-8), read as a signed
 * big-endian integer. Stable across versions and processes; the table is part of the input so
 * two tables never share a key for the same lock name. The same value in SQL:
 *
 * ```sql
 * SELECT ('x' || left(encode(sha256(convert_to('baton:public.baton_locks:' || 'my-app', 'UTF8')), 'hex'), 16))::bit(64)::bigint;
 * ```
 *
 * In `pg_locks` it shows as `locktype = 'advisory'`, `classid` = high 32 bits, `objid` = low
 * 32 bits, `objsubid = 1`.
 */
export function advisoryLockKey(name: string, schema = 'public', table = 'baton_locks'): bigint {
  return createHash('sha256').update(`baton:${schema}.${table}:${name}`, 'utf8').digest().readBigInt64BE(0);
}

/** Names whose key {@link keysOf} remembers; past it the memo starts over (a hash is cheap, just not free). */
const REMEMBERED_KEYS = 4_096;

/**
 * {@link advisoryLockKey} for one table, remembering recent names: a distributed lock makes a
 * lock object, and so asks for the key, on every acquisition.
 */
export function keysOf(schema: string, table: string): (name: string) => bigint {
  const memo = new Map<string, bigint>();
  return (name) => {
    let key = memo.get(name);
    if (key === undefined) {
      if (memo.size >= REMEMBERED_KEYS) memo.clear();
      key = advisoryLockKey(name, schema, table);
      memo.set(name, key);
    }
    return key;
  };
}

/** PostgreSQL's channel-name limit (NAMEDATALEN − 1), in bytes. */
const MAX_CHANNEL_BYTES = 63;

/**
 * The LISTEN/NOTIFY channel of a record table: `baton:<schema>.<table>`, or, when that is
 * longer than 63 bytes, `baton:` and the first 24 hex digits of its sha256.
 */
export function notifyChannel(schema: string, table: string): string {
  const plain = `baton:${schema}.${table}`;
  if (Buffer.byteLength(plain) <= MAX_CHANNEL_BYTES) return plain;
  return `baton:${createHash('sha256').update(plain, 'utf8').digest('hex').slice(0, 24)}`;
}
