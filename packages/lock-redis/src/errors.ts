import { AuthenticationError, BackendUnavailableError, BatonError, InvalidRecordError, PermissionDeniedError } from '@baton/core';

/**
 * Turns what ioredis threw into one of core's typed errors, keeping it as `cause`:
 * - failed authentication (`WRONGPASS`, `NOAUTH`) → AuthenticationError (permanent)
 * - ACL refusals (`NOPERM`, or inside a script) → PermissionDeniedError (permanent)
 * - `WRONGTYPE` (the key holds a list, a string, …) → InvalidRecordError
 * - everything else (refused, closed, timed out, `LOADING`, `READONLY`, `CLUSTERDOWN`, …) →
 *   BackendUnavailableError, which the elector treats as transient.
 */
export function mapRedisError(error: unknown, lock: string, operation: string): BatonError {
  if (error instanceof BatonError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isCredentialsError(error)) {
    return new AuthenticationError(`${lock}: ${operation}: ${credentialsProblem(message)}`, { cause: error });
  }
  if (isAuthError(error)) {
    return new PermissionDeniedError(`${lock}: ${operation} refused by Redis: ${message}`, { cause: error });
  }
  if (/\bWRONGTYPE\b/.test(message)) {
    return new InvalidRecordError(lock, 'the key holds a value of another type, not a hash', { cause: error });
  }
  return new BackendUnavailableError(`${lock}: ${operation} failed: ${message}`, { cause: error });
}

/**
 * True for refusals retrying will not fix: failed authentication, and ACL denials, both of a
 * command (`NOPERM`) and of a call inside a script ("The user executing the script can't …").
 */
export function isAuthError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /\bNOPERM\b|\bWRONGPASS\b|\bNOAUTH\b|user executing the script can't/.test(message);
}

/** True when the server rejected who we are (no password, a wrong one), not what we asked. */
export function isCredentialsError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /\bWRONGPASS\b|\bNOAUTH\b|invalid password|invalid username-password|called without any password configured/i.test(message);
}

/**
 * What a credentials refusal means. NOAUTH is Redis saying no password was sent at all (its
 * own text, about `HELLO AUTH`, names a command baton's user never typed): say where one goes.
 */
export function credentialsProblem(message: string): string {
  return /\bNOAUTH\b/.test(message)
    ? 'Redis requires a password and none was given (NOAUTH): put it in the URL, redis://:password@host:port, or redis://user:password@host:port with ACL users'
    : `Redis rejected the credentials: ${message}`;
}
