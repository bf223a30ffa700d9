import { AuthenticationError, BackendSetupError, BackendUnavailableError, BatonError, InvalidRecordError, PermissionDeniedError } from '@baton/core';
import { postgresTlsFailure } from './tls.ts';

/**
 * SQLSTATEs that mean the table no longer has the shape baton created (dropped, altered,
 * constraints removed or added): the stored state is not a record baton can trust.
 */
const TABLE_ALTERED = new Set([
  '42P01', // undefined_table
  '42703', // undefined_column
  '42804', // datatype_mismatch
  '42883', // undefined_function (an operator on a retyped column)
  '42P10', // invalid_column_reference (ON CONFLICT without the primary key)
  '428C9', // generated_always (version is no longer an identity column)
  '22P02', // invalid_text_representation
  '22003', // numeric_value_out_of_range
  '23502', // not_null_violation
  '23514', // check_violation
  '23505', // unique_violation (an index baton did not create)
]);

/** The server rejected who we are: a wrong password, no pg_hba.conf entry, an unknown role. */
const AUTHENTICATION = new Set(['28000', '28P01']);
/** Privileges missing for what baton does (create the schema or table, read, write, LISTEN). */
const PERMISSION = new Set(['42501']);
/**
 * The server answers but is not set up for this lock: the database does not exist (3D000), or
 * the configured schema does not and cannot be created (3F000).
 */
const SETUP = new Set(['3D000', '3F000']);

/** Errors of the connect itself (no server there, no route, a name that does not resolve), from node's net module. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/**
 * `cannot reach PostgreSQL at host:port: …` for a failed connect: pg passes node's error on
 * as it is, and `connect ECONNREFUSED 127.0.0.1:5432` alone does not say it was PostgreSQL.
 */
function unreachable(error: unknown, lock: string): BackendUnavailableError | undefined {
  const { code, address, port, hostname, message } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; message?: unknown };
  if (typeof code !== 'string' || !CONNECT_FAILURES.has(code)) return undefined;
  const where = typeof address === 'string' ? `${address}${typeof port === 'number' ? `:${port}` : ''}` : typeof hostname === 'string' ? hostname : 'its address';
  return new BackendUnavailableError(`${lock}: cannot reach PostgreSQL at ${where}: ${String(message)}`, { cause: error });
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Turns whatever `pg` threw into baton's typed errors; the permanent ones (which waiting does
 * not fix, so `baton run` gives up on them) first:
 * - errors baton threw on purpose pass through;
 * - TLS failures (tls.ts) → permanent errors saying what to change;
 * - rejected credentials → `AuthenticationError` (permanent);
 * - missing privileges → `PermissionDeniedError` (permanent);
 * - a database that does not exist → `BackendSetupError` (permanent);
 * - a table that was dropped or altered → `InvalidRecordError` (nothing is written then);
 * - a connect that fails (refused, no route, unknown host) → `BackendUnavailableError`
 *   `cannot reach PostgreSQL at host:port: …`;
 * - everything else (connection lost, server shutting down, timeouts, …) →
 *   `BackendUnavailableError`, with the original as `cause`.
 */
export function toLockError(error: unknown, lock: string): Error {
  if (error instanceof BatonError) return error;
  const tls = postgresTlsFailure(error, lock);
  if (tls) return tls;
  const message = error instanceof Error ? error.message : String(error);
  const code = sqlState(error);
  if (code !== undefined && AUTHENTICATION.has(code)) {
    return new AuthenticationError(`${lock}: PostgreSQL rejected the credentials: ${message} (SQLSTATE ${code})`, { cause: error });
  }
  if (code !== undefined && PERMISSION.has(code)) {
    return new PermissionDeniedError(`${lock}: ${message} (SQLSTATE ${code})`, { cause: error });
  }
  if (code !== undefined && SETUP.has(code)) {
    return new BackendSetupError(`${lock}: ${message} (SQLSTATE ${code})`, { cause: error });
  }
  // A prepared statement whose result type changed under it: a column was retyped.
  const retyped = code === '0A000' && /cached plan must not change result type/.test(message);
  if (code !== undefined && (TABLE_ALTERED.has(code) || retyped)) {
    return new InvalidRecordError(lock, `the table was altered or dropped: ${message} (SQLSTATE ${code})`, { cause: error });
  }
  return unreachable(error, lock) ?? new BackendUnavailableError(`${lock}: ${message}${code ? ` (SQLSTATE ${code})` : ''}`, { cause: error });
}
