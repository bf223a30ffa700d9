/**
 * @packageDocumentation
 * `@baton/lock-redis` — a baton {@link ResourceLock} on Redis (single server, Sentinel or
 * Cluster) through ioredis.
 *
 * ## How a lock is stored
 * - `<prefix>{<name>}`: a hash holding the record (`holderIdentity`, `leaseDurationMs`,
 *   `acquireTime`, `renewTime`, `leaderTransitions`, `fencingToken`) and an opaque `version`.
 * - `<prefix>{<name>}:fence`: the fencing counter. Same hash slot (the name is the hash tag),
 *   never expires, so tokens keep growing even when the record key is deleted or expires.
 * - `<prefix>{<name>}:changes`: every write publishes the new record and version here.
 *
 * ## Guarantees
 * - Every write is a Lua compare-and-swap on `version` (`create` is "set if absent"); scripts
 *   are called by SHA and sent again after NOSCRIPT.
 * - `acquireIfFree` takes an absent or released lock in ONE script call and never writes over
 *   a record that names a holder.
 * - An acquisition stores `max(requested token, INCR counter)`; renewals keep the token.
 * - The key expires `expiryFactor` (default 10) lease durations after its last write: a
 *   backstop for abandoned locks that never decides leadership while the holder renews.
 * - Data that is not a baton record (another type, foreign fields) is an
 *   `InvalidRecordError`, never overwritten.
 * - Calls fail fast with `BackendUnavailableError` while the connection is down, and always
 *   settle when their signal aborts or `operationTimeout` passes.
 * - `watch` uses ONE subscriber connection per factory, reports its health, and resubscribes
 *   after a reconnect; it sends a keep-alive PING only after 30 s of silence while something
 *   is watched.
 * - Every timer runs on the `clock` option (core's `Clock`; `FakeClock` in tests).
 */
export { RedisLock } from './redis-lock.ts';
export { RedisLockFactory } from './factory.ts';
export { DEFAULTS as REDIS_LOCK_DEFAULTS } from './options.ts';
export type {
  RedisClient,
  RedisClusterConnection,
  RedisConnectionOptions,
  RedisLockFactoryOptions,
  RedisLockOptions,
} from './options.ts';
export type { LockKeys } from './keys.ts';
export { lockKeys } from './keys.ts';
export { redisConnectionFromConfig } from './connection-config.ts';
export type { RedisConnectionConfig } from './connection-config.ts';
export { redisTlsOptions } from './tls.ts';
export type { RedisTlsConfig } from './tls.ts';
