import { ConfigError, parseDuration, silentLogger, systemClock } from '@baton/core';
import type { Clock, Duration, Logger } from '@baton/core';
import pg from 'pg';
import { connectionStringTls } from './tls.ts';

/**
 * What a {@link PostgresLockFactory} is built from. Give exactly one of `connectionString`,
 * `poolConfig` or `pool`. Durations are milliseconds or strings like `"12s"`.
 */
export interface PostgresLockFactoryOptions {
  /** `postgres://user:password@host:5432/db?sslmode=verify-full`; baton opens (and closes) a pool. TLS parameters keep libpq's meaning (tls.ts). */
  connectionString?: string;
  /** `pg.Pool` options (host, port, user, `ssl`, `max`, …); baton opens (and closes) a pool. */
  poolConfig?: pg.PoolConfig;
  /**
   * A pool the caller owns, used for reads and record writes. baton never ends it. The two
   * dedicated connections (advisory-lock session, LISTEN) are opened with `pool.options`.
   */
  pool?: pg.Pool;
  /** Schema of the record table. Created when missing. Default `"public"`. */
  schema?: string;
  /** Name of the record table. Created on first use when missing. Default `"baton_locks"`. */
  table?: string;
  /**
   * `idle_session_timeout` (and `statement_timeout`) of the session connection that holds the
   * advisory locks: a process that goes silent (partitioned, paused) loses its locks on the
   * server this long after its last statement. Choose `renewDeadline ≤ sessionTimeout ≤
   * leaseDuration − retryPeriod` for the electors using this factory (README, "Timing").
   * Default 12s (fits the elector defaults 15s / 10s / 2s).
   */
  sessionTimeout?: Duration;
  /**
   * How many session connections hold this process's advisory locks; each lock name is then
   * bound to one of them by its key. A connection commits one statement at a time, so a few
   * raise the write throughput of a process acquiring or leading very many locks.
   *
   * Unset (the default): one session connection while the process is quiet; while every open
   * one has statements waiting, an acquisition opens another, up to
   * `DEFAULTS.maxAdaptiveSessions` (4). A lock stays on the connection it was acquired on.
   */
  sessionConnections?: number;
  /**
   * While the LISTEN connection is down: how often one shared query reads every watched lock
   * and whether its holder's session is still there. While it is up nothing is polled: a
   * holder is checked only when its renewals (NOTIFYs) stop for 1.5 × its renewal period,
   * never sooner than this. Default 250ms.
   */
  holderCheckInterval?: Duration;
  /** Bound on a call made without an AbortSignal. Default 5s. */
  operationTimeout?: Duration;
  /** How long opening a connection may take. Default 5s. */
  connectTimeout?: Duration;
  /** `application_name` of the connections baton opens. Default `"baton"`. */
  applicationName?: string;
  /** Where connection trouble is logged (pino-shaped). Default: silent. */
  logger?: Logger;
  /**
   * The clock of every timer baton runs here: call deadlines, the session's reply deadline,
   * lease expiry of held advisory locks, the LISTEN connection's reconnect backoff and
   * keep-alive, the holder check. Default: the system clock; tests pass core's `FakeClock`.
   */
  clock?: Clock;
}

/** Options of a standalone {@link PostgresLock}: a factory's options plus the lock's name and identity. */
export interface PostgresLockOptions extends PostgresLockFactoryOptions {
  /** The lock's name: the record's primary key, and the input of the advisory-lock key. */
  name: string;
  /** The identity this process campaigns under. */
  identity: string;
}

/** {@link PostgresLockFactoryOptions} with every default filled in and durations in ms. */
export interface ResolvedFactoryOptions {
  /** The pool passed in, or undefined when baton opens its own from `poolConfig`. */
  pool: pg.Pool | undefined;
  /** Config of the pool baton opens, when it opens one. */
  poolConfig: pg.PoolConfig | undefined;
  /** Connection settings for the dedicated session and LISTEN connections. */
  clientConfig: pg.ClientConfig;
  schema: string;
  table: string;
  sessionTimeoutMs: number;
  sessionConnections: number;
  /** True when `sessionConnections` was given: every name bound to a session by its key. */
  fixedSessions: boolean;
  holderCheckIntervalMs: number;
  operationTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
  logger: Logger;
  clock: Clock;
}

export const DEFAULTS = {
  schema: 'public',
  table: 'baton_locks',
  sessionTimeoutMs: 12_000,
  sessionConnections: 1,
  /** Session connections opened on demand when `sessionConnections` is not given. */
  maxAdaptiveSessions: 4,
  /**
   * Connections on which distributed-lock waiters wait at the server for a held lock
   * (`acquireWhenFree`); waiters beyond them wait for the release's NOTIFY instead.
   */
  serverWaitConnections: 2,
  holderCheckIntervalMs: 250,
  operationTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  applicationName: 'baton',
  /** Size of a pool baton opens, unless `poolConfig.max` says otherwise. */
  poolMax: 4,
  /** Reconnect backoff of the LISTEN connection: this, doubling up to `maxReconnectDelayMs`. */
  minReconnectDelayMs: 100,
  maxReconnectDelayMs: 2_000,
  /**
   * An idle LISTEN connection asks the server something this often, so that one whose peer
   * vanished (a partition sends no FIN) is noticed and replaced.
   */
  listenKeepAliveMs: 30_000,
  /**
   * A session statement that has not answered within `sessionTimeout` plus this margin means
   * the connection is dead or partitioned (the server cancels its own statements at
   * `sessionTimeout`): baton drops it.
   */
  sessionReplyMarginMs: 1_000,
} as const;

/** PostgreSQL's identifier limit (NAMEDATALEN − 1), in bytes. */
const MAX_IDENTIFIER_BYTES = 63;
/** Lock names are a btree primary key; PostgreSQL refuses index rows above ~2.7 kB. */
export const MAX_LOCK_NAME_BYTES = 1024;

/**
 * Keys of `pg.PoolConfig` not passed on to the dedicated session and LISTEN connections: pool
 * settings, and `query_timeout`, which would abandon a statement while its connection stays
 * busy (those connections have deadlines of their own that drop the connection instead).
 */
const POOL_ONLY_KEYS = [
  'query_timeout',
  'max',
  'min',
  'idleTimeoutMillis',
  'log',
  'Promise',
  'allowExitOnIdle',
  'maxUses',
  'maxLifetimeSeconds',
  'Client',
  'onConnect',
  'verify',
] as const;

/**
 * Checks a table or schema name: letters, digits, `_` and `$`, not starting with a digit or
 * `$`, at most 63 bytes. It is then always double-quoted in SQL, so case is kept as given.
 * @throws ConfigError naming `field`.
 */
export function validateIdentifier(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(value)) {
    throw new ConfigError(field, `must be an identifier of letters, digits, "_" and "$", not starting with a digit, got ${JSON.stringify(value)}`);
  }
  if (Buffer.byteLength(value) > MAX_IDENTIFIER_BYTES) {
    throw new ConfigError(field, `must be at most ${MAX_IDENTIFIER_BYTES} bytes, got ${Buffer.byteLength(value)}`);
  }
  return value;
}

/**
 * Checks a lock name and identity: non-empty, well-formed Unicode (lone surrogates would not
 * survive UTF-8), no NUL (PostgreSQL `text` cannot hold it), a name at most 1 KiB.
 * @throws ConfigError naming the bad field.
 */
export function validateLockName(name: unknown, identity: unknown): void {
  checkText(name, 'name');
  if (Buffer.byteLength(name as string) > MAX_LOCK_NAME_BYTES) {
    throw new ConfigError('name', `must be at most ${MAX_LOCK_NAME_BYTES} bytes of UTF-8`);
  }
  checkText(identity, 'identity');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be a non-empty string');
  if (value.includes('\u0000')) throw new ConfigError(field, 'must not contain NUL characters (PostgreSQL text cannot store them)');
  if (LONE_SURROGATE.test(value)) throw new ConfigError(field, 'must be well-formed Unicode (no lone surrogates)');
}

function duration(value: Duration | undefined, fallback: number, field: string): number {
  return value === undefined ? fallback : parseDuration(value, field);
}

/**
 * Validates the options up front and fills in defaults.
 * @throws ConfigError naming the bad field.
 */
export function resolveFactoryOptions(options: PostgresLockFactoryOptions): ResolvedFactoryOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'expected an object');
  const { connectionString, poolConfig, pool } = options;
  const given = [connectionString, poolConfig, pool].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new ConfigError('connectionString', `give exactly one of connectionString, poolConfig or pool (got ${given})`);
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw new ConfigError('connectionString', 'must be a non-empty postgres:// URL');
  }
  if (poolConfig !== undefined && (typeof poolConfig !== 'object' || poolConfig === null)) {
    throw new ConfigError('poolConfig', 'must be pg.Pool options');
  }
  if (pool !== undefined && !(pool instanceof pg.Pool) && !isPoolLike(pool)) {
    throw new ConfigError('pool', 'must be a pg.Pool');
  }

  const schema = validateIdentifier(options.schema ?? DEFAULTS.schema, 'schema');
  const table = validateIdentifier(options.table ?? DEFAULTS.table, 'table');
  const sessionTimeoutMs = duration(options.sessionTimeout, DEFAULTS.sessionTimeoutMs, 'sessionTimeout');
  const holderCheckIntervalMs = duration(options.holderCheckInterval, DEFAULTS.holderCheckIntervalMs, 'holderCheckInterval');
  const operationTimeoutMs = duration(options.operationTimeout, DEFAULTS.operationTimeoutMs, 'operationTimeout');
  const connectTimeoutMs = duration(options.connectTimeout, DEFAULTS.connectTimeoutMs, 'connectTimeout');
  if (sessionTimeoutMs < 100) throw new ConfigError('sessionTimeout', `must be at least 100 ms, got ${sessionTimeoutMs} ms`);
  const fixedSessions = options.sessionConnections !== undefined;
  const sessionConnections = options.sessionConnections ?? DEFAULTS.maxAdaptiveSessions;
  if (!Number.isInteger(sessionConnections) || sessionConnections < 1 || sessionConnections > 64) {
    throw new ConfigError('sessionConnections', `must be an integer from 1 to 64, got ${String(sessionConnections)}`);
  }

  const applicationName = options.applicationName ?? DEFAULTS.applicationName;
  if (typeof applicationName !== 'string' || applicationName === '' || Buffer.byteLength(applicationName) > 50 || !/^[\x20-\x7e]+$/.test(applicationName)) {
    throw new ConfigError('applicationName', 'must be 1 to 50 printable ASCII characters');
  }
  const logger = options.logger ?? silentLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.debug !== 'function') {
    throw new ConfigError('logger', 'must have debug/info/warn/error methods');
  }

  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.setTimeout !== 'function' || typeof clock.now !== 'function') {
    throw new ConfigError('clock', 'must be a Clock (now, wallNow, setTimeout, clearTimeout)');
  }

  const base: pg.PoolConfig =
    pool !== undefined
      ? { ...(pool.options as pg.PoolConfig) }
      : connectionString !== undefined
        ? connectionStringTls(connectionString)
        : { ...poolConfig, ...(typeof poolConfig?.connectionString === 'string' ? connectionStringTls(poolConfig.connectionString) : {}) };
  const ownPoolConfig: pg.PoolConfig | undefined =
    pool !== undefined
      ? undefined
      : {
          max: DEFAULTS.poolMax,
          keepAlive: true,
          connectionTimeoutMillis: connectTimeoutMs,
          // A query with no answer (a dead or partitioned connection) fails and its connection is dropped.
          query_timeout: operationTimeoutMs,
          application_name: applicationName,
          ...base,
        };
  const clientConfig: pg.ClientConfig = { ...base };
  for (const key of POOL_ONLY_KEYS) delete (clientConfig as Record<string, unknown>)[key];

  return {
    pool,
    poolConfig: ownPoolConfig,
    clientConfig,
    schema,
    table,
    sessionTimeoutMs,
    sessionConnections,
    fixedSessions,
    holderCheckIntervalMs,
    operationTimeoutMs,
    connectTimeoutMs,
    applicationName,
    logger,
    clock,
  };
}

function isPoolLike(value: unknown): value is pg.Pool {
  const v = value as { query?: unknown; connect?: unknown; options?: unknown };
  return typeof v === 'object' && v !== null && typeof v.query === 'function' && typeof v.connect === 'function' && typeof v.options === 'object';
}
