/**
 * Typed errors shared by the elector, the lock API and every backend.
 *
 * Each error carries a stable `code` so callers can branch without `instanceof` across
 * package copies, and keeps the underlying failure as `cause`.
 */

/** Options every baton error takes. */
export interface BatonErrorOptions {
  cause?: unknown;
  /** Overrides the class's own {@link BatonError.permanent} (an adapter knows better). */
  permanent?: boolean;
}

/** Base class of every error baton throws on purpose. */
export class BatonError extends Error {
  readonly code: string;
  /**
   * True when retrying cannot help until someone changes something — a wrong password, a
   * missing permission, database or namespace, an invalid configuration, a record that is not
   * baton's. The library keeps retrying either way (a fix may come); `baton run` gives up when
   * a permanent error persists, and readiness checks fail meanwhile.
   */
  readonly permanent: boolean;

  constructor(code: string, message: string, options?: BatonErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.permanent = options?.permanent ?? (new.target as unknown as { readonly PERMANENT?: boolean }).PERMANENT ?? false;
  }
}

/**
 * Whether `error` (or an error in its `cause` chain) says retrying cannot help. Duck-typed on
 * `permanent`, so errors from another copy of this package count too.
 */
export function isPermanentError(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 8; depth++) {
    const flag = (current as { permanent?: unknown }).permanent;
    if (typeof flag === 'boolean') return flag;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A configuration value is missing or invalid. `field` names it (for example `renewDeadline`). */
export class ConfigError extends BatonError {
  static readonly PERMANENT = true;
  readonly field: string;

  constructor(field: string, message: string, options?: BatonErrorOptions) {
    super('CONFIG_INVALID', `${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * Someone else wrote first: a `create` found the record already there, or an `update`
 * carried a version that is no longer current. Expected during normal elections.
 */
export class LockConflictError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('LOCK_CONFLICT', message, options);
  }
}

/** An `update` targeted a record that no longer exists (deleted behind our back). */
export class LockNotFoundError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('LOCK_NOT_FOUND', message, options);
  }
}

/**
 * The backend holds something under the lock's name that is not a valid record
 * (foreign data, a corrupt value, wrong types). baton never overwrites it.
 */
export class InvalidRecordError extends BatonError {
  /** Permanent: baton never overwrites it, so only someone else can fix it. */
  static readonly PERMANENT = true;
  /** What was read, as `ResourceLock.describe()` names it. */
  readonly lock: string;

  constructor(lock: string, detail: string, options?: BatonErrorOptions) {
    super('RECORD_INVALID', `${lock}: invalid leader election record: ${detail}`, options);
    this.lock = lock;
  }
}

/**
 * The backend could not be reached or did not answer in time. Transient unless the adapter
 * knows better (`permanent: true`, e.g. TLS spoken to a plain-text server).
 */
export class BackendUnavailableError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('BACKEND_UNAVAILABLE', message, options);
  }
}

/** The backend refused the operation for lack of permission (for example Kubernetes RBAC). Permanent. */
export class PermissionDeniedError extends BatonError {
  static readonly PERMANENT = true;

  constructor(message: string, options?: BatonErrorOptions) {
    super('PERMISSION_DENIED', message, options);
  }
}

/** The backend rejected the credentials (a wrong password, NOAUTH, an expired token: 401). Permanent. */
export class AuthenticationError extends BatonError {
  static readonly PERMANENT = true;

  constructor(message: string, options?: BatonErrorOptions) {
    super('AUTH_FAILED', message, options);
  }
}

/**
 * The backend answers but is not set up for this lock: a missing database, schema,
 * namespace, or a database index the server does not have. Permanent.
 */
export class BackendSetupError extends BatonError {
  static readonly PERMANENT = true;

  constructor(message: string, options?: BatonErrorOptions) {
    super('BACKEND_SETUP', message, options);
  }
}

/** Waiting for a lock ended because its `timeout` passed. */
export class LockTimeoutError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('LOCK_TIMEOUT', message, options);
  }
}

/** An operation was cancelled through the caller's AbortSignal. */
export class AbortedError extends BatonError {
  constructor(message = 'operation aborted', options?: BatonErrorOptions) {
    super('ABORTED', message, options);
  }
}

/**
 * A held lock was lost (not renewed in time, taken over, or its session died) — or, from a
 * synchronous validity check, the term or handle it guards has ended (cause: why).
 */
export class LockLostError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('LOCK_LOST', message, options);
  }
}

/**
 * A synchronous validity check (`term.assertLeading()`, `handle.assertHeld()`) ran after
 * renewDeadline had passed since the start of the last successful renewal, before the
 * holder's own timers noticed — typically right after the process was paused (SIGSTOP, a
 * long GC, a blocked event loop). Another contender may take over soon: stop, do not write.
 * A {@link LockLostError}, so code that handles lost locks handles this too.
 */
export class LeaseExpiredError extends LockLostError {
  /** How long after renewDeadline the check ran, in ms (0 at the deadline itself). */
  readonly overdueMs: number;

  constructor(message: string, overdueMs: number, options?: BatonErrorOptions) {
    super(message, options);
    this.overdueMs = overdueMs;
  }
}
