import {
  BackendUnavailableError,
  BatonError,
  InvalidRecordError,
  LockConflictError,
  LockNotFoundError,
  PermissionDeniedError,
} from '@baton/core';

/** The HTTP status of a failed Kubernetes API call, when it has one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function serverMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      return body.slice(0, 300);
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return error instanceof Error ? error.message : String(error);
}

/**
 * Translates a client-node failure into baton's typed errors, naming the object.
 * 409 → LockConflictError, 404 → LockNotFoundError, 401/403 → PermissionDeniedError,
 * 422 → InvalidRecordError, everything else (5xx, 429, network, timeouts) → BackendUnavailableError.
 */
export function toBatonError(error: unknown, object: string, verb: string): BatonError {
  if (error instanceof BatonError) return error;
  const status = statusOf(error);
  const detail = `${verb} ${object}: ${serverMessage(error)}`;
  switch (status) {
    case 409:
      return new LockConflictError(detail, { cause: error });
    case 404:
      return new LockNotFoundError(detail, { cause: error });
    case 401:
    case 403:
      return new PermissionDeniedError(`${detail} (check the ServiceAccount's Role: see deploy/)`, { cause: error });
    case 422:
      return new InvalidRecordError(object, `the API server rejected the object: ${serverMessage(error)}`, { cause: error });
    default:
      return new BackendUnavailableError(status === undefined ? detail : `${detail} (HTTP ${status})`, { cause: error });
  }
}
