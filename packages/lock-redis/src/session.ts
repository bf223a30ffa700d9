import { AbortedError, BackendUnavailableError, PermissionDeniedError } from '@baton/core';
import type { WatchHandlers } from '@baton/core';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import { closeClient, openCommandClient, openSubscriber } from './clients.ts';
import { isAuthError, mapRedisError } from './errors.ts';
import { isClusterConnection } from './options.ts';
import type { RedisClient, ResolvedFactoryOptions } from './options.ts';
import { SentinelWatch } from './sentinel-watch.ts';
import { defineScripts } from './scripts.ts';
import { SharedSubscriber } from './subscriber.ts';

interface ReadyWaiter {
  readonly lock: string;
  readonly what: string;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The connections a {@link RedisLockFactory} (or a standalone lock) shares among its locks:
 * one command connection and, once something is watched, ONE subscriber connection.
 * Closing it closes only what it opened.
 */
export class RedisSession {
  readonly options: ResolvedFactoryOptions;
  readonly client: RedisClient;
  private readonly owned: boolean;
  private subscriber: SharedSubscriber | undefined;
  private sentinelWatch: SentinelWatch | undefined;
  private lastError: Error | undefined;
  private readonly waiters = new Set<ReadyWaiter>();
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];
  private closed = false;

  constructor(options: ResolvedFactoryOptions) {
    this.options = options;
    this.owned = options.client === undefined;
    this.client = options.client ?? openCommandClient(options.connection!, options);
    defineScripts(this.client);
    const { connection } = options;
    if (this.owned && typeof connection === 'object' && !isClusterConnection(connection) && connection.sentinels?.length) {
      this.sentinelWatch = new SentinelWatch(connection, () => this.leaveDemotedMaster(), options.logger);
    }
    this.listen('error', (error: Error) => {
      this.lastError = error;
      options.logger.debug({ error: error.message }, 'Redis connection error');
    });
    this.listen('ready', () => {
      this.lastError = undefined;
      for (const waiter of this.takeWaiters()) waiter.resolve();
    });
    const down = (): void => {
      if (this.client.status === 'ready') return;
      for (const waiter of this.takeWaiters()) waiter.reject(this.unavailable(waiter.what, waiter.lock));
    };
    this.listen('close', down);
    this.listen('end', down);
  }

  /** The shared subscriber, if a lock has been watched (for tests and diagnostics). */
  get sharedSubscriber(): SharedSubscriber | undefined {
    return this.subscriber;
  }

  /**
   * Runs `operation` on the command connection, bounded by `signal` and the session's
   * `operationTimeout`. While the connection is down it fails at once with a
   * BackendUnavailableError (no offline queue); while it is being opened, it waits for it.
   * ioredis errors become core's typed errors.
   */
  exec<T>(lock: string, what: string, signal: AbortSignal | undefined, operation: (client: RedisClient) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let stopWaiting = (): void => {};
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        stopWaiting();
        return true;
      };
      const onAbort = (): void => {
        if (finish()) reject(new AbortedError(`${lock}: ${what} aborted`, { cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        if (finish()) {
          reject(new BackendUnavailableError(`${lock}: ${what}: no answer from Redis within ${this.options.operationTimeoutMs} ms`));
        }
      }, this.options.operationTimeoutMs);
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const ready = this.whenReady(lock, what);
      stopWaiting = ready.cancel;
      ready.promise
        .then(() => (settled ? undefined : operation(this.client)))
        .then(
          (value) => {
            if (finish()) resolve(value as T);
          },
          (error: unknown) => {
            if (finish()) reject(mapRedisError(error, lock, what));
          },
        );
    });
  }

  /** Watches `channel` on the shared subscriber connection, opening it on first use. */
  watch(channel: string, lock: string, handlers: WatchHandlers): () => void {
    if (this.closed) throw new Error(`${lock}: watch after close()`);
    this.subscriber ??= new SharedSubscriber({
      open: () => this.openSubscriberConnection(lock),
      heartbeatMs: Math.max(1, Math.floor(this.options.socketTimeoutMs / 2)),
      logger: this.options.logger,
    });
    return this.subscriber.watch(channel, lock, handlers);
  }

  /** Closes the subscriber, and the command connection if this session opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [event, listener] of this.listeners) this.client.off(event, listener);
    for (const waiter of this.takeWaiters()) waiter.reject(new BackendUnavailableError('the Redis lock was closed'));
    await this.subscriber?.close();
    await this.sentinelWatch?.close();
    if (this.owned) await closeClient(this.client);
  }

  /** Sentinel announced a new master: reconnect now, so Sentinel routes us to it. */
  private leaveDemotedMaster(): void {
    if (this.closed) return;
    if (this.client.status === 'ready') (this.client as Redis).disconnect(true);
    this.subscriber?.reconnect();
  }

  private async openSubscriberConnection(lock: string) {
    if (this.client instanceof Cluster) {
      // The subscriber connects to one node; the cluster must have told us its nodes first.
      await this.exec(lock, 'open subscriber', undefined, async () => undefined);
    }
    return openSubscriber(this.client, this.options, this.owned);
  }

  /**
   * Resolves once the command connection is ready: at once when it is, after the connection
   * being opened is up, and with an error at once when it is down. `cancel` forgets the wait.
   */
  private whenReady(lock: string, what: string): { promise: Promise<void>; cancel(): void } {
    const client = this.client;
    const none = (): void => {};
    if (this.closed) return { promise: Promise.reject(new BackendUnavailableError(`${lock}: ${what}: the Redis lock was closed`)), cancel: none };
    switch (client.status) {
      case 'ready':
        return { promise: Promise.resolve(), cancel: none };
      case 'wait':
        // lazyConnect: connect now; errors arrive through the events.
        client.connect().catch(() => {});
        break;
      case 'connecting':
      case 'connect':
        break;
      default:
        // reconnecting, close, disconnecting, end: down right now, so fail fast.
        return { promise: Promise.reject(this.unavailable(what, lock)), cancel: none };
    }
    let waiter!: ReadyWaiter;
    const promise = new Promise<void>((resolve, reject) => {
      waiter = { lock, what, resolve, reject };
    });
    this.waiters.add(waiter);
    return { promise, cancel: () => this.waiters.delete(waiter) };
  }

  private takeWaiters(): ReadyWaiter[] {
    const waiters = [...this.waiters];
    this.waiters.clear();
    return waiters;
  }

  private unavailable(what: string, lock?: string): Error {
    const where = lock ? `${lock}: ${what}` : what;
    const last = this.lastError;
    if (last && isAuthError(last)) {
      return new PermissionDeniedError(`${where}: Redis refused the credentials: ${last.message}`, { cause: last });
    }
    const reason = last ? last.message : `connection status is "${this.client.status}"`;
    return new BackendUnavailableError(`${where}: Redis is unreachable (${reason})`, { cause: last });
  }

  private listen(event: string, listener: (...args: any[]) => void): void {
    this.client.on(event, listener);
    this.listeners.push([event, listener]);
  }
}
