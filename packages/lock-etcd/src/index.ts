/**
 * @packageDocumentation
 * `@baton/lock-etcd` — a baton {@link ResourceLock} on etcd v3 through the `etcd3` client.
 *
 * ## How a lock is stored
 * - `<keyPrefix><name>` (default `baton/lock/<name>`): the record as JSON; the key's mod
 *   revision is the lock's version.
 * - `<fencePrefix><name>` (default `baton/fence/<name>`): the fencing counter, the last
 *   token issued as 16 zero-padded digits; never deleted, never attached to a lease.
 *
 * ## Guarantees
 * - Every write is one transaction comparing the record's mod revision (`create`: its create
 *   revision is 0, i.e. absent). A new term also requires the counter to be below its token
 *   and moves it there, so tokens strictly increase even after the record is deleted.
 * - Values that are not baton records are an `InvalidRecordError`, never overwritten.
 * - `watch` uses ONE gRPC stream per factory and one etcd watcher per key, starting from the
 *   revision the lock last read; compaction and reconnects end in a re-read.
 * - With `session`, a holder's record is attached to an etcd lease the factory keeps alive:
 *   a crashed holder's record disappears after the lease's TTL, and the holder itself stops
 *   (`onSessionLost`) a third of the TTL before etcd can delete anything.
 * - Unreachable etcd → `BackendUnavailableError`; refused credentials or permissions →
 *   `PermissionDeniedError`. Calls settle when their signal aborts or `operationTimeout` passes.
 */
export { EtcdLock } from './etcd-lock.ts';
export { EtcdLockFactory } from './factory.ts';
export { DEFAULTS as ETCD_LOCK_DEFAULTS } from './options.ts';
export type {
  EtcdAuthOptions,
  EtcdConnectionOptions,
  EtcdLockFactoryOptions,
  EtcdLockOptions,
  EtcdSessionOptions,
  EtcdTlsOptions,
} from './options.ts';
export type { LockKeys } from './keys.ts';
export { lockKeys } from './keys.ts';
