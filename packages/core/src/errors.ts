/**
 * Typed errors shared by the elector, the lock API and every backend.
 *
 * Each error carries a stable `code` so callers can branch without `instanceof` across
 * package copies, and keeps the underlying failure as `cause`.
 */

/** What every baton error may be constructed with. */
export interface BatonErrorOptions {
  cause?: unknown;
  /** Overrides the class's default {@link BatonError.permanent}. */
  permanent?: boolean;
}

/** Base class of every error baton throws on purpose. */
export class BatonError extends Error {
  readonly code: string;
  /**
   * True when retrying cannot help until someone changes the configuration, the permissions
   * or the stored data (a 401, a 403, a missing namespace, an invalid setting): a supervisor
   * should fail fast. False for what may pass on its own (an unreachable server, a timeout,
   * a lost race). Each class has a default; the thrower may say otherwise.
   */
  readonly permanent: boolean;

  constructor(code: string, message: string, options?: BatonErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.permanent = options?.permanent ?? false;
  }
}

/** A configuration value is missing or invalid. `field` names it (for example `renewDeadline`). */
export class ConfigError extends BatonError {
  readonly field: string;

  constructor(field: string, message: string, options?: BatonErrorOptions) {
    super('CONFIG_INVALID', `${field}: ${message}`, { ...options, permanent: options?.permanent ?? true });
    this.field = field;
  }
}

/**
 * Someone else wrote first: a `create` found the record already there, or an `update`
 * carried a version that is no longer current. Expected during normal elections.
 */
export class LockConflictError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_CONFLICT', message, options);
  }
}

/** An `update` targeted a record that no longer exists (deleted behind our back). */
export class LockNotFoundError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_NOT_FOUND', message, options);
  }
}

/**
 * The backend holds something under the lock's name that is not a valid record
 * (foreign data, a corrupt value, wrong types). baton never overwrites it.
 */
export class InvalidRecordError extends BatonError {
  /** What was read, as `ResourceLock.describe()` names it. */
  readonly lock: string;

  constructor(lock: string, detail: string, options?: BatonErrorOptions) {
    super('RECORD_INVALID', `${lock}: invalid leader election record: ${detail}`, options);
    this.lock = lock;
  }
}

/** The backend could not be reached or did not answer in time. Usually transient. */
export class BackendUnavailableError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('BACKEND_UNAVAILABLE', message, options);
  }
}

/** The backend refused the operation for lack of permission (for example Kubernetes RBAC). Permanent by default. */
export class PermissionDeniedError extends BatonError {
  constructor(message: string, options?: BatonErrorOptions) {
    super('PERMISSION_DENIED', message, { ...options, permanent: options?.permanent ?? true });
  }
}

/** Waiting for a lock ended because its `timeout` passed. */
export class LockTimeoutError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_TIMEOUT', message, options);
  }
}

/** An operation was cancelled through the caller's AbortSignal. */
export class AbortedError extends BatonError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/**
 * A held lock was lost (not renewed in time, taken over, or its session died) — or, from a
 * synchronous validity check, the term or handle it guards has ended (cause: why).
 */
export class LockLostError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
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

  constructor(message: string, overdueMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.overdueMs = overdueMs;
  }
}
