import { BackendUnavailableError, BatonError, PermissionDeniedError } from '@baton/core';
import {
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  EtcdUserNotFoundError,
  GRPCUnauthenticatedError,
} from 'etcd3';

/**
 * True for refusals that retrying will not fix: wrong or missing credentials, or a user
 * whose roles do not cover the key.
 */
export function isAuthError(error: unknown): boolean {
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdPermissionDeniedError ||
    error instanceof EtcdUserNotFoundError ||
    error instanceof GRPCUnauthenticatedError
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /etcdserver: (permission denied|authentication failed|user name is empty|user name not found)|user name is empty/.test(message);
}

/** True when etcd says the lease named in a write no longer exists (expired or revoked). */
export function isLeaseNotFound(error: unknown): boolean {
  if (error instanceof EtcdLeaseInvalidError) return true;
  return /requested lease not found/.test(error instanceof Error ? error.message : String(error));
}

/** One line on what etcd refused, for the PermissionDeniedError's message. */
function authReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EtcdAuthenticationFailedError || /authentication failed/.test(message)) {
    return 'etcd refused the user name or password (authentication failed)';
  }
  if (/user name is empty/.test(message)) return 'etcd has authentication enabled and no credentials were given';
  if (error instanceof EtcdInvalidAuthTokenError) return 'etcd rejected the authentication token';
  return "the etcd user's roles do not grant this operation on the lock's keys (permission denied)";
}

/**
 * Turns what etcd3 threw into one of core's typed errors, keeping it as `cause`:
 * - failed authentication and missing permissions → PermissionDeniedError, one clear line;
 * - everything else (unreachable, timed out, no leader, a closed client, a failed TLS
 *   handshake — named as such in the message) → BackendUnavailableError, which the elector
 *   treats as transient.
 */
export function mapEtcdError(error: unknown, lock: string, operation: string): BatonError {
  if (error instanceof BatonError) return error;
  if (isAuthError(error)) {
    return new PermissionDeniedError(`${lock}: ${operation} refused: ${authReason(error)}`, { cause: error });
  }
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (/certificate|SSL routines|tls alert|handshake/i.test(message)) {
    // Usually a configuration mistake rather than an outage: say where to look.
    return new BackendUnavailableError(`${lock}: ${operation} failed: the TLS handshake with etcd failed (check connection.tls: ca, cert, key): ${message}`, { cause: error });
  }
  return new BackendUnavailableError(`${lock}: ${operation} failed: ${message}`, { cause: error });
}
