import {
  AuthenticationError,
  BackendSetupError,
  BackendUnavailableError,
  BatonError,
  InvalidRecordError,
  LockConflictError,
  LockNotFoundError,
  PermissionDeniedError,
} from '@baton/core';
import { KubeApiError, KubeNetworkError } from './kube-client.ts';
import type { KubeResource } from './kube-object.ts';

/** The HTTP status of a failed Kubernetes API call, when it has one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** What a failed call was doing, for its message. */
export interface KubeCall {
  /** The RBAC verb: get, create, update, list, watch. */
  verb: string;
  resource: KubeResource;
  namespace: string;
  name: string;
  /** The lock's `describe()`. */
  describe: string;
}

/** TLS failures that no retry fixes: the CA, the certificate or the server name is wrong. */
const TLS_CONFIG_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

/**
 * Translates a failed call into baton's typed errors, one line each, `permanent` where no
 * retry can help:
 * - no answer → BackendUnavailableError `cannot reach the Kubernetes API at URL: …` (a TLS
 *   verification failure is permanent, a refused or reset connection is not);
 * - 401 → AuthenticationError `the API server rejected the token (401)`, permanent;
 * - 403 → PermissionDeniedError naming verb, resource, name and namespace, permanent;
 * - 404 naming the namespace → BackendSetupError, permanent; any other 404 →
 *   LockNotFoundError; 409 → LockConflictError; 422 → InvalidRecordError, permanent;
 * - 429, 5xx → BackendUnavailableError (transient).
 */
export function toBatonError(error: unknown, call: KubeCall): BatonError {
  if (error instanceof BatonError) return error;
  const { verb, resource, namespace, name, describe } = call;
  if (error instanceof KubeNetworkError) {
    const permanent = error.errno !== undefined && TLS_CONFIG_ERRORS.has(error.errno);
    return new BackendUnavailableError(`cannot reach the Kubernetes API at ${error.server}: ${error.message}`, { cause: error, permanent });
  }
  if (!(error instanceof KubeApiError)) {
    return new BackendUnavailableError(`${verb} ${describe}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const message = error.status.message ?? error.message;
  switch (error.code) {
    case 401:
      return new AuthenticationError(`the API server rejected the token (401) on ${verb} ${describe}`, { cause: error });
    case 403:
      return new PermissionDeniedError(
        `not allowed to ${verb} ${resource.resource} "${name}" in namespace "${namespace}" (403): ${message} — see the Role in deploy/kubernetes`,
        { cause: error },
      );
    case 404:
      if (error.status.details?.kind === 'namespaces' || /^namespaces? "[^"]*" not found/.test(message)) {
        return new BackendSetupError(`namespace "${namespace}" does not exist (404 on ${verb} ${describe})`, { cause: error });
      }
      return new LockNotFoundError(`${verb} ${describe}: ${message}`, { cause: error });
    case 409:
      return new LockConflictError(`${verb} ${describe}: ${message}`, { cause: error });
    case 422:
      return new InvalidRecordError(describe, `the API server rejected the object: ${message}`, { cause: error });
    default:
      return new BackendUnavailableError(`${verb} ${describe}: the API server answered ${error.code}: ${message}`, { cause: error });
  }
}
