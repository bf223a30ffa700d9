import { ConfigError, parseDuration, silentLogger, systemClock } from '@baton/core';
import type { Clock, Duration, Logger } from '@baton/core';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { withDiagnosingConnector } from './connector.ts';
import { DEFAULTS } from './defaults.ts';

export { DEFAULTS } from './defaults.ts';

/** A client the caller already has: a single server or Sentinel `Redis`, or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** Startup nodes and options of a Redis Cluster, for {@link RedisLockFactoryOptions.connection}. */
export interface RedisClusterConnection {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

/**
 * Where to connect when baton opens its own connections:
 * - a URL (`redis://user:password@host:6379/0`, `rediss://…` for TLS);
 * - ioredis `RedisOptions` for a single server (`host`, `port`, `tls`, `username`, `password`)
 *   or for Sentinel (`sentinels`, `name`, `sentinelPassword`, …);
 * - `{ cluster: [startup nodes], options?: ClusterOptions }` for Redis Cluster.
 */
export type RedisConnectionOptions = string | RedisOptions | RedisClusterConnection;

/** What a {@link RedisLockFactory} is built from. Durations are ms or strings like `"5s"`. */
export interface RedisLockFactoryOptions {
  /**
   * An existing client to send commands on. baton never closes it, and opens one extra
   * connection (a `duplicate()`) for pub/sub when a lock is watched. Give either this or
   * `connection`.
   */
  client?: RedisClient;
  /** Where to connect; baton opens (and closes) one command and one subscriber connection. */
  connection?: RedisConnectionOptions;
  /** Prepended to every key and channel. Default `"baton:"`. Must not contain `{` or `}`. */
  keyPrefix?: string;
  /**
   * The record key expires this many lease durations after its last write, a backstop that
   * cleans up abandoned locks. At least 2 (a live holder renews long before). Default 10.
   */
  expiryFactor?: number;
  /** Bound on a call made without an AbortSignal. Default 5s. */
  operationTimeout?: Duration;
  /**
   * On connections baton opens: a connection that owes a reply and has received nothing for
   * this long is dropped and reconnected (ioredis `socketTimeout`). Default 5s.
   */
  socketTimeout?: Duration;
  /**
   * The subscriber connection sends a PING after it has heard nothing for this long while a
   * lock is watched (and none while nothing is watched), so a silently dead watch is noticed
   * within `watchKeepAlive + socketTimeout`. Default 30s.
   */
  watchKeepAlive?: Duration;
  /** `CLIENT SETNAME` of connections baton opens. Default `"baton"`. */
  connectionName?: string;
  /** Where connection trouble is logged (pino-shaped). Default: silent. */
  logger?: Logger;
  /**
   * The clock of every timer baton runs here: call timeouts, reconnect backoff, the
   * subscriber's keep-alive. Default: the system clock; tests pass core's `FakeClock`.
   */
  clock?: Clock;
}

/** Options of a standalone {@link RedisLock}: a factory's options plus the lock's name and identity. */
export interface RedisLockOptions extends RedisLockFactoryOptions {
  /** The lock's name; the record key is `<keyPrefix>{<name>}`. Must not contain `{` or `}`. */
  name: string;
  /** The identity this process campaigns under. */
  identity: string;
}

/** {@link RedisLockFactoryOptions} with every default filled in. */
export interface ResolvedFactoryOptions {
  client: RedisClient | undefined;
  connection: RedisConnectionOptions | undefined;
  keyPrefix: string;
  expiryFactor: number;
  operationTimeoutMs: number;
  socketTimeoutMs: number;
  watchKeepAliveMs: number;
  connectionName: string;
  logger: Logger;
  clock: Clock;
}


/** True when `connection` names a Redis Cluster. */
export function isClusterConnection(connection: RedisConnectionOptions): connection is RedisClusterConnection {
  return typeof connection === 'object' && connection !== null && 'cluster' in connection;
}

/**
 * Validates the options up front and fills in defaults.
 * @throws ConfigError naming the bad field.
 */
export function resolveFactoryOptions(options: RedisLockFactoryOptions): ResolvedFactoryOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'expected an object');
  const { client, connection } = options;
  if (client !== undefined && connection !== undefined) {
    throw new ConfigError('client', 'give either an existing client or connection options, not both');
  }
  if (client === undefined && connection === undefined) {
    throw new ConfigError('connection', 'give connection options (or a URL) or an existing ioredis client');
  }
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function')) {
    throw new ConfigError('client', 'must be an ioredis Redis or Cluster instance');
  }
  if (connection !== undefined) {
    if (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
      throw new ConfigError('connection', 'must be a redis:// URL, ioredis RedisOptions, or { cluster: [nodes] }');
    }
    if (isClusterConnection(connection) && (!Array.isArray(connection.cluster) || connection.cluster.length === 0)) {
      throw new ConfigError('connection.cluster', 'must list at least one startup node');
    }
  }

  const keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string') throw new ConfigError('keyPrefix', 'must be a string');
  if (/[{}]/.test(keyPrefix)) {
    throw new ConfigError('keyPrefix', `must not contain "{" or "}" (baton puts the lock name in a hash tag), got "${keyPrefix}"`);
  }

  const expiryFactor = options.expiryFactor ?? DEFAULTS.expiryFactor;
  if (typeof expiryFactor !== 'number' || !Number.isFinite(expiryFactor) || expiryFactor < 2) {
    throw new ConfigError('expiryFactor', `must be a number >= 2, got ${String(expiryFactor)}`);
  }

  const operationTimeoutMs =
    options.operationTimeout === undefined ? DEFAULTS.operationTimeoutMs : parseDuration(options.operationTimeout, 'operationTimeout');
  const socketTimeoutMs =
    options.socketTimeout === undefined ? DEFAULTS.socketTimeoutMs : parseDuration(options.socketTimeout, 'socketTimeout');
  const watchKeepAliveMs =
    options.watchKeepAlive === undefined ? DEFAULTS.watchKeepAliveMs : parseDuration(options.watchKeepAlive, 'watchKeepAlive');

  const connectionName = options.connectionName ?? DEFAULTS.connectionName;
  if (typeof connectionName !== 'string' || !/^[^\s]+$/.test(connectionName)) {
    throw new ConfigError('connectionName', 'must be a non-empty string without spaces');
  }
  const logger = options.logger ?? silentLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new ConfigError('logger', 'must have debug/info/warn/error methods');
  }

  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.setTimeout !== 'function' || typeof clock.now !== 'function') {
    throw new ConfigError('clock', 'must be a Clock (now, wallNow, setTimeout, clearTimeout)');
  }

  return { client, connection: connection === undefined ? undefined : withDiagnosingConnector(connection), keyPrefix, expiryFactor, operationTimeoutMs, socketTimeoutMs, watchKeepAliveMs, connectionName, logger, clock };
}

/**
 * Checks a lock name and identity.
 * @throws ConfigError naming the bad field.
 */
export function validateLockName(name: unknown, identity: unknown): void {
  if (typeof name !== 'string' || name === '') throw new ConfigError('name', 'must be a non-empty string');
  if (/[{}]/.test(name)) {
    throw new ConfigError('name', `must not contain "{" or "}" (it becomes the key's hash tag), got "${name}"`);
  }
  if (typeof identity !== 'string' || identity === '') throw new ConfigError('identity', 'must be a non-empty string');
}
