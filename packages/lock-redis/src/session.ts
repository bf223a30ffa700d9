import { AbortedError, AuthenticationError, BackendSetupError, BackendUnavailableError, isPermanentError, PermissionDeniedError } from '@baton/core';
import type { WatchHandlers } from '@baton/core';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import { Call, CallDeadlines } from './call.ts';
import type { AnyCall, CallOwner } from './call.ts';
import { closeClient, openCommandClient, openSubscriber } from './clients.ts';
import { credentialsProblem, isAuthError, isCredentialsError, mapRedisError } from './errors.ts';
import { isClusterConnection } from './options.ts';
import type { RedisClient, ResolvedFactoryOptions } from './options.ts';
import { Reconnector } from './reconnector.ts';
import { ReplyWatchdog } from './reply-watchdog.ts';
import { SentinelWatch } from './sentinel-watch.ts';
import { SharedSubscriber } from './subscriber.ts';

/**
 * Commands held back in one write at most (see `RedisSession.batchWrites`): enough to save
 * most system calls, few enough that the server starts on them while this process is still
 * busy with the rest of a burst. 16 measured best of 4–32 at 64 locks in flight.
 */
const WRITE_BATCH = 16;

/**
 * The connections a {@link RedisLockFactory} (or a standalone lock) shares among its locks:
 * one command connection and, once something is watched, ONE subscriber connection.
 * Closing it closes only what it opened.
 */
export class RedisSession implements CallOwner {
  readonly options: ResolvedFactoryOptions;
  readonly client: RedisClient;
  private readonly owned: boolean;
  private readonly reconnector: Reconnector | undefined;
  private subscriber: SharedSubscriber | undefined;
  private sentinelWatch: SentinelWatch | undefined;
  private lastError: Error | undefined;
  /**
   * Set when the server cannot serve the configured connection as asked — a database index
   * it does not have. ioredis then reports the failed SELECT and goes on in database 0, next
   * to other users' keys; this session refuses every call instead (a permanent error).
   */
  private setupError: BackendSetupError | undefined;
  private readonly deadlines: CallDeadlines;
  /** `socketTimeout` of a command connection this session opened (see reply-watchdog.ts). */
  private readonly watchdog: ReplyWatchdog | undefined;
  /** The last lease duration's script arguments (see leaseArgs). */
  private leaseArgCache: { ms: number; duration: string; expiry: string } | undefined;
  /** Calls waiting for the connection being opened. */
  private readonly waiting = new Set<AnyCall>();
  /** Calls not settled yet. */
  private inFlight = 0;
  /** Calls in flight per lock channel: its watch messages are held back meanwhile. */
  private readonly busyChannels = new Map<string, number>();
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];
  private readonly mapError = (error: unknown, call: AnyCall): unknown => mapRedisError(error, call.lock, call.what);
  private closed = false;
  /** The command connection's stream while its writes are held to the end of this tick (see batchWrites). */
  private corkedStream: { cork(): void; uncork(): void } | undefined;
  /** Commands held since the last write went out. */
  private batched = 0;

  constructor(options: ResolvedFactoryOptions) {
    this.options = options;
    this.owned = options.client === undefined;
    this.client = options.client ?? openCommandClient(options.connection!, options);
    this.deadlines = new CallDeadlines(options.clock, options.operationTimeoutMs, (call) => this.timedOut(call));
    const { connection } = options;
    if (this.owned && !(this.client instanceof Cluster)) {
      // A retryStrategy in the connection options still decides the delays (ioredis' own loop is off).
      const delay = (typeof connection === 'object' && !isClusterConnection(connection) ? connection.retryStrategy : undefined) ?? undefined;
      this.reconnector = new Reconnector(this.client, { clock: options.clock, logger: options.logger, what: 'commands', delay });
    }
    if (this.owned && !(this.client instanceof Cluster)) {
      const client = this.client;
      this.watchdog = new ReplyWatchdog(options.socketTimeoutMs, (silentMs) => {
        options.logger.debug({ silentMs: Math.round(silentMs) }, 'Redis command connection silent; dropping it');
        client.stream?.destroy(new Error(`Socket timeout. Expecting data, but didn't receive any in ${options.socketTimeoutMs}ms.`));
      });
    }
    if (this.owned && typeof connection === 'object' && !isClusterConnection(connection) && connection.sentinels?.length) {
      this.sentinelWatch = new SentinelWatch(connection, () => this.leaveDemotedMaster(), options);
    }
    this.listen('error', (error: Error) => {
      this.lastError = error;
      if (/DB index is out of range|invalid DB index/i.test(error.message)) {
        const db = (this.client.options as { db?: number }).db;
        this.setupError ??= new BackendSetupError(`Redis has no database ${db ?? '?'} (${error.message}); refusing to use database 0 instead`, { cause: error });
      }
      options.logger.debug({ error: error.message }, 'Redis connection error');
    });
    this.listen('ready', () => {
      this.lastError = undefined;
      const refused = this.setupError;
      for (const call of this.takeWaiting()) refused ? call.fail(refused) : call.run(this.client, this.mapError, this.watchdog);
    });
    const down = (): void => {
      if (this.client.status === 'ready') return;
      for (const call of this.takeWaiting()) call.fail(this.unavailable(call.what, call.lock));
    };
    this.listen('close', down);
    this.listen('end', down);
  }

  /**
   * A lease duration and the key expiry that goes with it (`expiryFactor` durations), as
   * script arguments. Every lock of a process writes the same duration or few: the strings
   * are made once, not per write.
   */
  leaseArgs(leaseDurationMs: number): { readonly duration: string; readonly expiry: string } {
    let args = this.leaseArgCache;
    if (args?.ms !== leaseDurationMs) {
      const expiry = String(Math.min(Math.ceil(leaseDurationMs * this.options.expiryFactor), Number.MAX_SAFE_INTEGER));
      this.leaseArgCache = args = { ms: leaseDurationMs, duration: String(leaseDurationMs), expiry };
    }
    return args;
  }

  /** The shared subscriber, if a lock has been watched (for tests and diagnostics). */
  get sharedSubscriber(): SharedSubscriber | undefined {
    return this.subscriber;
  }

  /** Calls not settled yet (for tests: a fake clock is moved on once real I/O has settled). */
  get callsInFlight(): number {
    return this.inFlight;
  }

  /** Reconnect attempts of the command connection since it was last ready (connections baton opened). */
  get reconnectAttempts(): number {
    return this.reconnector?.attempts ?? 0;
  }

  /**
   * Runs `operation` on the command connection, bounded by `signal` and the session's
   * `operationTimeout`. While the connection is down it fails at once with a
   * BackendUnavailableError (no offline queue); while it is being opened, it waits for it.
   * ioredis errors become core's typed errors.
   *
   * With `channel` (the lock's change channel), messages on it that arrive while the call is
   * in flight are delivered only after its reply: the command and subscriber connections are
   * not ordered with each other, and a read answered before a change must not reach the
   * caller after that change (it would look newer than it is).
   */
  exec<T>(
    lock: string,
    what: string,
    signal: AbortSignal | undefined,
    operation: (client: RedisClient) => Promise<T>,
    channel?: string,
  ): Promise<T> {
    // Only a watched channel's messages can overtake the reply: a channel nobody watches
    // (the uncontended case) costs no bookkeeping. A mutex starts watching only after its
    // call has been answered, so a watch never begins under one of its own calls.
    const busy = channel !== undefined && this.subscriber !== undefined && this.subscriber.watches(channel) ? channel : undefined;
    const call = new Call(this, lock, what, signal, operation, busy);
    this.inFlight++;
    if (busy !== undefined) this.busyChannels.set(busy, (this.busyChannels.get(busy) ?? 0) + 1);
    if (signal !== undefined) {
      if (signal.aborted) {
        this.aborted(call);
        return call.promise;
      }
      // No `once`: the call removes its listener when it settles, aborted or not (and an
      // options object makes each registration dearer).
      signal.addEventListener('abort', call);
    }
    if (this.closed) {
      call.fail(new BackendUnavailableError(`${lock}: ${what}: the Redis lock was closed`));
      return call.promise;
    }
    if (this.setupError) {
      call.fail(this.setupError);
      return call.promise;
    }
    const client = this.client;
    switch (client.status) {
      case 'ready':
        this.deadlines.add(call);
        this.batchWrites(client);
        call.run(client, this.mapError, this.watchdog);
        break;
      case 'wait':
        // lazyConnect: connect now; errors arrive through the events.
        client.connect().catch(() => {});
        this.wait(call);
        break;
      case 'connecting':
      case 'connect':
        this.wait(call);
        break;
      default:
        // reconnecting, close, disconnecting, end: down right now, so fail fast.
        call.fail(this.unavailable(what, lock));
    }
    return call.promise;
  }

  /** Watches `channel` on the shared subscriber connection, opening it on first use. */
  watch(channel: string, lock: string, handlers: WatchHandlers): () => void {
    if (this.closed) throw new Error(`${lock}: watch after close()`);
    this.subscriber ??= new SharedSubscriber({
      open: () => this.openSubscriberConnection(lock),
      keepAliveMs: this.options.watchKeepAliveMs,
      clock: this.options.clock,
      logger: this.options.logger,
      busy: (channel) => this.busyChannels.has(channel),
    });
    return this.subscriber.watch(channel, lock, handlers);
  }

  /** Closes the subscriber, and the command connection if this session opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reconnector?.stop();
    this.watchdog?.stop();
    this.deadlines.stop();
    for (const [event, listener] of this.listeners) this.client.off(event, listener);
    for (const call of this.takeWaiting()) call.fail(new BackendUnavailableError(`${call.lock}: ${call.what}: the Redis lock was closed`));
    await this.subscriber?.close();
    await this.sentinelWatch?.close();
    if (this.owned) await closeClient(this.client, this.options.clock);
  }

  // ---- CallOwner -----------------------------------------------------------------------

  forget(call: AnyCall): void {
    this.inFlight--;
    this.deadlines.remove(call);
    if (this.waiting.size > 0) this.waiting.delete(call);
    const { channel } = call;
    if (channel === undefined) return;
    const busy = (this.busyChannels.get(channel) ?? 1) - 1;
    if (busy > 0) {
      this.busyChannels.set(channel, busy);
      return;
    }
    this.busyChannels.delete(channel);
    this.subscriber?.callsSettled(channel);
  }

  timedOut(call: AnyCall): void {
    call.fail(new BackendUnavailableError(`${call.lock}: ${call.what}: no answer from Redis within ${this.options.operationTimeoutMs} ms`));
  }

  aborted(call: AnyCall): void {
    call.fail(new AbortedError(`${call.lock}: ${call.what} aborted`, { cause: call.signal?.reason }));
  }

  // ---- internals -----------------------------------------------------------------------

  /**
   * Holds the connection's writes back until the current burst of work is done (a
   * `process.nextTick`, which runs once the promise callbacks queued now have run), so the
   * commands of many locks issued together — the replies of one read settle many calls, each
   * of which sends its next command — leave in few writes instead of one system call each.
   * A command sent while no other call is in flight (an uncontended lock) is written at once:
   * holding it to the end of the tick only delayed it, by whatever promise callbacks ran
   * first (3–5 µs per acquire + release, measured interleaved). (Cluster: left alone.)
   *
   * Every {@link WRITE_BATCH} commands the batch goes out at once, though: held to the end of
   * the burst, the server would sit idle while this process works through a whole read of
   * replies, and this process idle while the server works through the whole batch — with 64
   * locks in flight that lock-step cost a quarter of the throughput (12.5k against 15k
   * acquire+release/s on this machine).
   */
  private batchWrites(client: RedisClient): void {
    const corked = this.corkedStream;
    // Nothing else in flight (this call is counted): no burst to gather, so it goes at once.
    if (corked === undefined && this.inFlight <= 1) return;
    if (corked !== undefined) {
      if (++this.batched < WRITE_BATCH) return;
      this.batched = 0;
      corked.uncork();
      corked.cork();
      return;
    }
    const stream = (client as { stream?: { cork?: () => void; uncork?: () => void } }).stream;
    if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function' || client instanceof Cluster) return;
    const held = stream as { cork(): void; uncork(): void };
    this.corkedStream = held;
    this.batched = 0;
    held.cork();
    process.nextTick(() => {
      this.corkedStream = undefined;
      held.uncork();
    });
  }

  private wait(call: AnyCall): void {
    this.deadlines.add(call);
    this.waiting.add(call);
  }

  private takeWaiting(): Array<AnyCall> {
    const calls = [...this.waiting];
    this.waiting.clear();
    return calls;
  }

  /** Sentinel announced a new master: reconnect now, so Sentinel routes us to it. */
  private leaveDemotedMaster(): void {
    if (this.closed) return;
    if (this.client.status === 'ready') (this.client as Redis).disconnect(true);
    this.subscriber?.reconnect();
  }

  private async openSubscriberConnection(lock: string): Promise<Redis> {
    if (this.client instanceof Cluster) {
      // The subscriber connects to one node; the cluster must have told us its nodes first.
      await this.exec(lock, 'open subscriber', undefined, async () => undefined);
    }
    return openSubscriber(this.client, this.options, this.owned);
  }

  private unavailable(what: string, lock?: string): Error {
    const where = lock ? `${lock}: ${what}` : what;
    const last = this.lastError;
    if (last && isCredentialsError(last)) {
      return new AuthenticationError(`${where}: ${credentialsProblem(last.message)}`, { cause: last });
    }
    if (last && isAuthError(last)) {
      return new PermissionDeniedError(`${where}: Redis refused: ${last.message}`, { cause: last });
    }
    // The connector's diagnosis of a connection that cannot work as configured (TLS): said as it is.
    if (last && isPermanentError(last)) return new BackendUnavailableError(`${where}: ${last.message}`, { cause: last, permanent: true });
    const reason = last ? last.message : `connection status is "${this.client.status}"`;
    return new BackendUnavailableError(`${where}: Redis is unreachable (${reason})`, { cause: last });
  }

  private listen(event: string, listener: (...args: any[]) => void): void {
    this.client.on(event, listener);
    this.listeners.push([event, listener]);
  }
}
