import type { Clock } from '@baton/core';
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { DEFAULTS, isClusterConnection } from './options.ts';
import type { RedisClient, RedisConnectionOptions, ResolvedFactoryOptions } from './options.ts';
import { NO_IOREDIS_RETRY, reconnectDelayMs } from './reconnector.ts';
import { unrefTimer } from './timers.ts';

/** A reply saying the node is a replica now (after a failover): reconnect, so Sentinel names the master. */
function reconnectOnReadonly(error: Error): boolean {
  return /\bREADONLY\b/.test(error.message);
}

/** Defaults baton applies to connections it opens; the caller's options win over these. */
function defaultsFor(options: ResolvedFactoryOptions, role: 'commands' | 'subscriber'): RedisOptions {
  return {
    reconnectOnError: reconnectOnReadonly,
    connectTimeout: DEFAULTS.connectTimeoutMs,
    // How long a closing socket may linger; ioredis also arms this timer when the socket is already gone.
    disconnectTimeout: 200,
    // The command connection's is the session's ReplyWatchdog (no timer per command).
    ...(role === 'subscriber' ? { socketTimeout: options.socketTimeoutMs } : {}),
    connectionName: role === 'commands' ? options.connectionName : `${options.connectionName}-sub`,
  };
}

/**
 * What baton forces on connections it opens, so that a call fails fast while the connection
 * is down instead of queueing: no offline queue, pending commands are failed (not resent)
 * when the connection drops, and the subscriber's channels are resubscribed by baton itself
 * (so it knows when the watch is live again). ioredis does not reconnect on its own timers:
 * baton does, on its clock (see reconnector.ts).
 */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  autoResubscribe: false,
  retryStrategy: NO_IOREDIS_RETRY,
};

/** ioredis emits connection errors as events; baton reports them through calls, so none may go unhandled. */
function quiet<T extends RedisClient>(client: T): T {
  client.on('error', () => {});
  return client;
}

/** Opens the command connection described by `connection`. */
export function openCommandClient(connection: RedisConnectionOptions, options: ResolvedFactoryOptions): RedisClient {
  if (isClusterConnection(connection)) {
    const user = connection.options ?? {};
    const clusterOptions: ClusterOptions = {
      // Cluster keeps its own reconnect loop over the nodes (ioredis' timers).
      clusterRetryStrategy: reconnectDelayMs,
      slotsRefreshTimeout: DEFAULTS.connectTimeoutMs,
      ...user,
      enableOfflineQueue: false,
      redisOptions: {
        connectTimeout: DEFAULTS.connectTimeoutMs,
        disconnectTimeout: 200,
        socketTimeout: options.socketTimeoutMs,
        connectionName: options.connectionName,
        ...user.redisOptions,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
      },
    };
    return quiet(new Cluster(connection.cluster, clusterOptions));
  }
  if (typeof connection === 'string') {
    return quiet(new Redis(connection, { ...defaultsFor(options, 'commands'), ...FAIL_FAST }));
  }
  return quiet(new Redis({ ...defaultsFor(options, 'commands'), ...connection, ...FAIL_FAST }));
}

/**
 * Opens a subscriber connection next to `client`: a duplicate of a single server or Sentinel
 * client, or, on Cluster, a plain connection to one node (a PUBLISH on any node of a cluster
 * reaches subscribers on every node). `owned` tells whether baton opened `client` itself and
 * so applied its defaults.
 */
export function openSubscriber(client: RedisClient, options: ResolvedFactoryOptions, owned: boolean): Redis {
  if (client instanceof Cluster) {
    const nodes = client.nodes('master');
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    if (!node) throw new Error('no cluster node is known yet');
    const { host, port, username, password, tls, family, protocol } = node.options;
    return quiet(new Redis({
      ...defaultsFor(options, 'subscriber'),
      ...withoutUndefined({ host, port, username, password, tls, family, protocol }),
      ...FAIL_FAST,
    }));
  }
  const override: RedisOptions = owned
    ? {
        // The command connection leaves socketTimeout to the session's watchdog; the subscriber keeps ioredis' own.
        socketTimeout: (client.options as RedisOptions).socketTimeout ?? options.socketTimeoutMs,
        connectionName: `${options.connectionName}-sub`,
        ...FAIL_FAST,
        lazyConnect: false,
      }
    : { ...defaultsFor(options, 'subscriber'), ...FAIL_FAST, lazyConnect: false };
  return quiet(client.duplicate(override));
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Closes a client: QUIT when it is connected, otherwise a plain disconnect, and resolves once
 * its socket is gone (or after `timeoutMs` on `clock`, when something keeps it from closing cleanly).
 */
export async function closeClient(client: RedisClient, clock: Clock, timeoutMs = 2_000): Promise<void> {
  const status = client.status;
  if (status === 'end') return;
  if (!(client instanceof Cluster) && (status === 'reconnecting' || status === 'close' || status === 'wait')) {
    // No socket is open: stop the reconnect timer. (ioredis emits no 'end' for this case.)
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => {
    const timer = unrefTimer(
      clock.setTimeout(() => {
        client.disconnect();
        resolve();
      }, timeoutMs),
    );
    client.once('end', () => {
      clock.clearTimeout(timer);
      resolve();
    });
  });
  if (status === 'ready') {
    client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
  await ended;
}
