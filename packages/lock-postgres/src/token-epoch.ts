/**
 * Fencing tokens that survive a crash of the server although acquisitions commit without
 * waiting for the WAL flush.
 *
 * An acquisition on the fast path (`acquireIfFree`, `acquireWhenFree`, and the elector's
 * writes that take the advisory lock) commits with `synchronous_commit = off`: its caller has
 * the lock one WAL flush (about a millisecond) sooner. A server crash can lose such commits —
 * only the last few hundred milliseconds of them — and with them the tokens they issued; the
 * sessions, and so the advisory locks, die with the server. Without more, the next term could
 * be given a token a lost term already used, and a resource that saw that token would take
 * both writers for one.
 *
 * So tokens carry an epoch. The row named `''` (no lock can have that name) stores the epoch
 * number and the server lifetime it belongs to (the postmaster's start time, in µs). Every
 * write that starts a term reads that row in its own statement and writes only when the row
 * belongs to the running server; its token is at least `epoch × 2^32`. A server that has
 * restarted (or a standby that was promoted) has another start time: the first write finds
 * the row stale, writes nothing, and the store bumps the epoch in a statement of its own,
 * committed synchronously (and replicated as the server's own synchronous_commit says), then
 * tries again. Every token issued after a restart is therefore above every token of the
 * lifetime before it, lost or not. Within one lifetime tokens grow by one per term, from
 * `max(requested, stored + 1, epoch × 2^32)`; the first epoch is 0, so tokens stay small
 * until the server first restarts.
 *
 * A commit the server reported as visible was flushed first when it was synchronous, so a
 * statement that sees the row current knows the epoch is durable. The limit is the server's
 * own: a promoted standby that had not received the old primary's newest epoch (asynchronous
 * replication) can repeat it, as it could repeat any synchronously committed row it never got.
 */
import { BackendUnavailableError } from '@baton/core';
import type pg from 'pg';
import { prepared } from './prepared.ts';

/** The postmaster's start in µs since 1970: one value per server lifetime. */
const SERVER_LIFETIME = `(EXTRACT(epoch FROM pg_catalog.pg_postmaster_start_time()) * 1000000)::bigint`;

/** Tokens per epoch. */
const EPOCH_SPAN = '4294967296';

/** Epochs above this would put tokens past 2^53 (JavaScript's safe integers). */
const MAX_EPOCH = '2097150';

/**
 * The CTE `ep`: one row (`floor`, the least token of the current epoch) when the epoch row
 * belongs to the running server; none when the server restarted since (or there is no row).
 */
export const EPOCH_CTE = (table: string): string => `ep AS MATERIALIZED (
  SELECT e.fencing_token * ${EPOCH_SPAN} AS floor FROM ${table} e
  WHERE e.name = '' AND e.acquire_time_ms = ${SERVER_LIFETIME} AND e.fencing_token BETWEEN 0 AND ${MAX_EPOCH}
)`;

/** Whether {@link EPOCH_CTE} found the epoch current: a term may be written. */
export const EPOCH_OK = `EXISTS (SELECT 1 FROM ep)`;

/** The least token the current epoch allows (0 when there is none: nothing is written then). */
export const EPOCH_FLOOR = `COALESCE((SELECT ep.floor FROM ep), 0)`;

/** `set_config` that makes this statement's transaction commit without waiting for the WAL flush. */
export const COMMIT_ASYNC = `pg_catalog.set_config('synchronous_commit', 'off', true)`;

/**
 * Makes the epoch row of `table` the running server's: inserts epoch 0, or bumps it after a
 * restart. Commits synchronously (the server's own synchronous_commit).
 */
export const ENSURE_EPOCH = (table: string): string => `INSERT INTO ${table} AS e (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
VALUES ('', '', 1, ${SERVER_LIFETIME}, 0, 0, 0)
ON CONFLICT (name) DO UPDATE SET fencing_token = e.fencing_token + 1, acquire_time_ms = EXCLUDED.acquire_time_ms
WHERE e.acquire_time_ms IS DISTINCT FROM EXCLUDED.acquire_time_ms`;

/** A term write found the epoch row stale and wrote nothing; {@link TokenEpoch.retrying} handles it. */
export class EpochNotCurrentError extends Error {
  constructor() {
    super('the fencing-token epoch belongs to an earlier server lifetime');
    this.name = 'EpochNotCurrentError';
  }
}

/** Keeps the epoch row current for one table, through the pool. */
export class TokenEpoch {
  private readonly pool: pg.Pool;
  private readonly ensureStatement: string;
  private ensuring: Promise<void> | undefined;

  constructor(pool: pg.Pool, table: string) {
    this.pool = pool;
    this.ensureStatement = ENSURE_EPOCH(table);
  }

  /** Makes the epoch row the running server's (once at a time; concurrent callers share it). */
  ensure(): Promise<void> {
    this.ensuring ??= this.pool
      .query(prepared(this.ensureStatement, []))
      .then(() => undefined)
      .finally(() => {
        this.ensuring = undefined;
      });
    return this.ensuring;
  }

  /** Runs `operation`; when it reports the epoch stale, makes it current and runs it once more. */
  async retrying<T>(describe: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof EpochNotCurrentError)) throw error;
    }
    await this.ensure();
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof EpochNotCurrentError)) throw error;
      throw new BackendUnavailableError(
        `${describe}: the fencing-token epoch (the row named '' in the table) stays stale — is it corrupt, or was the server restarted again?`,
        { cause: error },
      );
    }
  }
}
