import { ConfigError, parseDuration, silentLogger, systemClock } from '@baton/core';
import type { Clock, Duration, Logger } from '@baton/core';
import type { Etcd3 } from 'etcd3';

/** PEM material for TLS; strings or Buffers as read from the files. */
export interface EtcdTlsOptions {
  /** CA certificate(s) that signed the servers' certificates. Default: the system's roots. */
  ca?: string | Buffer;
  /** Client certificate chain, for client-certificate authentication. Give `key` with it. */
  cert?: string | Buffer;
  /** Private key of `cert`. */
  key?: string | Buffer;
}

/** etcd's own user/password authentication (`etcdctl auth enable`). */
export interface EtcdAuthOptions {
  username: string;
  password: string;
}

/**
 * Where baton connects when it opens its own client: the members' client URLs, plus TLS and
 * authentication. A string is a comma-separated list of URLs; credentials may be given in
 * them (`http://user:password@10.0.0.1:2379,http://10.0.0.2:2379`); `https://` turns TLS on.
 */
export type EtcdConnectionOptions =
  | string
  | {
      /** Client URLs of the members, e.g. `['https://etcd-0:2379', 'https://etcd-1:2379']`. */
      hosts: string | string[];
      tls?: EtcdTlsOptions;
      auth?: EtcdAuthOptions;
    };

/** Keys a lock with the session option attaches to an etcd lease of its holder. */
export interface EtcdSessionOptions {
  /**
   * TTL asked for the etcd lease, in whole seconds (rounded up). etcd deletes the record of a
   * holder whose keep-alives stop this long after the last one it received. Default 10s; etcd
   * raises values below its minimum (1.5 election timeouts, 2s by default).
   */
  ttl?: Duration;
}

/** What an {@link EtcdLockFactory} is built from. Durations are ms or strings like `"5s"`. */
export interface EtcdLockFactoryOptions {
  /** Your own `Etcd3` client. baton never closes it. Give either this or `connection`. */
  client?: Etcd3;
  /** Where to connect; baton opens one client (one gRPC channel per member) and closes it. */
  connection?: EtcdConnectionOptions;
  /** Prefix of record keys: the record of lock `name` is `<keyPrefix><name>`. Default `"baton/lock/"`. */
  keyPrefix?: string;
  /**
   * Prefix of fencing counter keys (`<fencePrefix><name>`). Default `"baton/fence/"`. Neither
   * prefix may start with the other, so no lock name can make a record key equal a counter key.
   */
  fencePrefix?: string;
  /**
   * Bind each holder's record to an etcd lease that this factory keeps alive: when the
   * holder's process dies, etcd deletes the record after the lease's TTL and followers take
   * over at once, without waiting out the lease duration. `true` for the defaults.
   */
  session?: boolean | EtcdSessionOptions;
  /** Bound on a call made without an AbortSignal. Default 5s. */
  operationTimeout?: Duration;
  /** Where connection trouble is logged (pino-shaped). Default: silent. */
  logger?: Logger;
  /** Timers of the session keep-alive and watch re-creation. Default: the system clock. */
  clock?: Clock;
}

/** Options of a standalone {@link EtcdLock}: a factory's options plus the lock's name and identity. */
export interface EtcdLockOptions extends EtcdLockFactoryOptions {
  /** The lock's name; the record key is `<keyPrefix><name>`. */
  name: string;
  /** The identity this process campaigns under. */
  identity: string;
}

/** {@link EtcdLockFactoryOptions} with every default filled in. */
export interface ResolvedFactoryOptions {
  client: Etcd3 | undefined;
  connection: ResolvedConnection | undefined;
  keyPrefix: string;
  fencePrefix: string;
  /** TTL of the session lease in seconds; `undefined` when the session option is off. */
  sessionTtlSeconds: number | undefined;
  operationTimeoutMs: number;
  logger: Logger;
  clock: Clock;
}

/** Connection options in one shape: URLs, TLS, authentication. */
export interface ResolvedConnection {
  hosts: string[];
  tls: EtcdTlsOptions | undefined;
  auth: EtcdAuthOptions | undefined;
}

export const DEFAULTS = {
  keyPrefix: 'baton/lock/',
  fencePrefix: 'baton/fence/',
  sessionTtlSeconds: 10,
  operationTimeoutMs: 5_000,
  /**
   * gRPC keep-alive pings on connections baton opens, while a call or stream (a watch) is
   * open, so a silently dead connection is noticed. etcd refuses pings more frequent than
   * its `--grpc-keepalive-min-time` (5s by default).
   */
  keepAliveTimeMs: 5_000,
  keepAliveTimeoutMs: 3_000,
  /** Watch stream reconnection on clients baton opens: 100 ms doubling up to this cap. */
  maxWatchBackoffMs: 1_000,
} as const;

/**
 * Validates the options up front and fills in defaults.
 * @throws ConfigError naming the bad field.
 */
export function resolveFactoryOptions(options: EtcdLockFactoryOptions): ResolvedFactoryOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'expected an object');
  const { client, connection } = options;
  if (client !== undefined && connection !== undefined) {
    throw new ConfigError('client', 'give either an existing client or connection options, not both');
  }
  if (client === undefined && connection === undefined) {
    throw new ConfigError('connection', 'give connection options (or client URLs) or an existing Etcd3 client');
  }
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof (client as Etcd3).watch !== 'function' || !('kv' in client))) {
    throw new ConfigError('client', 'must be an Etcd3 instance from the etcd3 package');
  }

  const keyPrefix = prefix(options.keyPrefix, DEFAULTS.keyPrefix, 'keyPrefix');
  const fencePrefix = prefix(options.fencePrefix, DEFAULTS.fencePrefix, 'fencePrefix');
  if (keyPrefix.startsWith(fencePrefix) || fencePrefix.startsWith(keyPrefix)) {
    throw new ConfigError(
      'fencePrefix',
      `"${fencePrefix}" and keyPrefix "${keyPrefix}" overlap: one starts with the other, so a lock name could turn a record key into a counter key`,
    );
  }

  const operationTimeoutMs =
    options.operationTimeout === undefined ? DEFAULTS.operationTimeoutMs : parseDuration(options.operationTimeout, 'operationTimeout');
  const logger = options.logger ?? silentLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new ConfigError('logger', 'must have debug/info/warn/error methods');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function') {
    throw new ConfigError('clock', 'must implement now(), wallNow(), setTimeout() and clearTimeout()');
  }

  return {
    client,
    connection: connection === undefined ? undefined : resolveConnection(connection),
    keyPrefix,
    fencePrefix,
    sessionTtlSeconds: resolveSession(options.session),
    operationTimeoutMs,
    logger,
    clock,
  };
}

function prefix(value: unknown, fallback: string, field: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be a non-empty string');
  return value;
}

function resolveSession(session: EtcdLockFactoryOptions['session']): number | undefined {
  if (session === undefined || session === false) return undefined;
  if (session === true) return DEFAULTS.sessionTtlSeconds;
  if (typeof session !== 'object' || session === null) throw new ConfigError('session', 'must be true, false or { ttl }');
  if (session.ttl === undefined) return DEFAULTS.sessionTtlSeconds;
  return Math.ceil(parseDuration(session.ttl, 'session.ttl') / 1000);
}

/**
 * Parses connection options into URLs, TLS and authentication.
 * @throws ConfigError naming the bad field.
 */
export function resolveConnection(connection: EtcdConnectionOptions): ResolvedConnection {
  if (typeof connection === 'string') {
    const urls = connection.split(',').map((url) => url.trim()).filter((url) => url !== '');
    if (urls.length === 0) throw new ConfigError('connection', 'names no client URL');
    let auth: EtcdAuthOptions | undefined;
    const hosts = urls.map((text) => {
      const url = parseUrl(text, 'connection');
      if (url.username !== '') {
        const given = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
        if (auth && (auth.username !== given.username || auth.password !== given.password)) {
          throw new ConfigError('connection', 'the URLs name different credentials; give them once');
        }
        auth = given;
      }
      return `${url.protocol}//${url.host}`;
    });
    return { hosts, tls: undefined, auth };
  }
  if (typeof connection !== 'object' || connection === null) {
    throw new ConfigError('connection', 'must be client URLs ("http://host:2379,…") or { hosts, tls?, auth? }');
  }
  const list = typeof connection.hosts === 'string' ? connection.hosts.split(',') : connection.hosts;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError('connection.hosts', 'must name at least one client URL');
  const hosts = list.map((text, i) => {
    if (typeof text !== 'string') throw new ConfigError(`connection.hosts[${i}]`, 'must be a URL string');
    const trimmed = text.trim();
    // etcd3 also takes bare host:port (plain text); keep that shape working.
    if (!/^[a-z]+:\/\//i.test(trimmed)) return `http://${trimmed}`;
    const url = parseUrl(trimmed, `connection.hosts[${i}]`);
    return `${url.protocol}//${url.host}`;
  });
  const { tls, auth } = connection;
  if (tls !== undefined) {
    if (typeof tls !== 'object' || tls === null) throw new ConfigError('connection.tls', 'must be { ca?, cert?, key? }');
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new ConfigError('connection.tls', 'give cert and key together (client-certificate authentication)');
    }
  }
  if (auth !== undefined && (typeof auth !== 'object' || auth === null || typeof auth.username !== 'string' || auth.username === '' || typeof auth.password !== 'string')) {
    throw new ConfigError('connection.auth', 'must be { username, password } with a non-empty username');
  }
  return { hosts, tls, auth };
}

function parseUrl(text: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new ConfigError(field, `"${text}" is not a URL (expected http://host:2379 or https://host:2379)`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(field, `"${text}": the scheme must be http or https, got ${url.protocol}`);
  }
  if (url.port === '') throw new ConfigError(field, `"${text}" names no port (etcd's client port is usually 2379)`);
  return url;
}

/**
 * Checks a lock name and identity.
 * @throws ConfigError naming the bad field.
 */
export function validateLockName(name: unknown, identity: unknown): void {
  if (typeof name !== 'string' || name === '') throw new ConfigError('name', 'must be a non-empty string');
  if (typeof identity !== 'string' || identity === '') throw new ConfigError('identity', 'must be a non-empty string');
}
