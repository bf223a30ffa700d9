import { AbortedError, BackendUnavailableError, BatonError } from '@baton/core';
import type { Etcd3 } from 'etcd3';
import { openClient } from './clients.ts';
import { mapEtcdError } from './errors.ts';
import type { ResolvedFactoryOptions } from './options.ts';
import { SessionLease } from './session-lease.ts';
import { WatchHub } from './watch-hub.ts';

/** gRPC call options for one unary call: its deadline. */
export interface CallOptions {
  deadline: Date;
}

/**
 * What an {@link EtcdLockFactory} (or a standalone lock) shares among its locks: one client
 * (one gRPC channel per member), ONE watch stream multiplexing every watched key, and, with
 * the session option, ONE etcd lease kept alive for every lock it holds.
 * Closing it closes only what it opened.
 */
export class EtcdConnection {
  readonly options: ResolvedFactoryOptions;
  readonly client: Etcd3;
  readonly watches: WatchHub;
  /** The holder's etcd lease; `undefined` when the session option is off. */
  readonly session: SessionLease | undefined;
  private readonly owned: boolean;
  private closed = false;

  constructor(options: ResolvedFactoryOptions) {
    this.options = options;
    this.owned = options.client === undefined;
    this.client = options.client ?? openClient(options.connection!);
    this.watches = new WatchHub(this.client, options.logger, options.clock);
    this.session =
      options.sessionTtlSeconds === undefined
        ? undefined
        : new SessionLease({
            client: this.client,
            ttlSeconds: options.sessionTtlSeconds,
            clock: options.clock,
            logger: options.logger,
            operationTimeoutMs: options.operationTimeoutMs,
          });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs `operation` bounded by `signal` and `operationTimeout` (also passed to gRPC as the
   * call's deadline). It settles the moment the signal aborts; the call itself may still
   * reach etcd, and its late result is dropped. etcd3 errors become core's typed errors.
   */
  exec<T>(lock: string, what: string, signal: AbortSignal | undefined, operation: (call: CallOptions) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new BackendUnavailableError(`${lock}: ${what}: the etcd lock was closed`));
    if (signal?.aborted) return Promise.reject(new AbortedError(`${lock}: ${what} aborted`, { cause: signal.reason }));
    const timeoutMs = this.options.operationTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (finish()) reject(new AbortedError(`${lock}: ${what} aborted`, { cause: signal?.reason }));
      };
      // A real timer, not the injected clock: it bounds a network call, like gRPC's deadline.
      const timer = setTimeout(() => {
        if (finish()) reject(new BackendUnavailableError(`${lock}: ${what}: no answer from etcd within ${timeoutMs} ms`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      let running: Promise<T>;
      try {
        running = operation({ deadline: new Date(Date.now() + timeoutMs) });
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => {
          if (finish()) resolve(value);
        },
        (error: unknown) => {
          if (finish()) reject(error instanceof BatonError ? error : mapEtcdError(error, lock, what));
        },
      );
    });
  }

  /** Stops every watch, revokes the session lease, and closes the client if this connection opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watches.close();
    await this.session?.close();
    if (this.owned) this.client.close();
  }
}
