import type { Clock, Logger, LockSnapshot, TimerHandle, WatchHandlers } from '@baton/core';
import type { Redis } from 'ioredis';
import { closeClient } from './clients.ts';
import { decodeMessage } from './codec.ts';
import { isAuthError } from './errors.ts';
import { reconnectDelayMs } from './reconnector.ts';
import { unrefTimer } from './timers.ts';

interface Watcher {
  readonly lock: string;
  readonly handlers: WatchHandlers;
  healthy: boolean;
  stopped: boolean;
}

interface Channel {
  readonly watchers: Set<Watcher>;
  /** Subscribed on the current connection (its SUBSCRIBE was answered). */
  subscribed: boolean;
  /** Messages held back while a call on the lock is in flight, in arrival order. */
  held: string[] | undefined;
}

export interface SubscriberOptions {
  /**
   * Opens a new subscriber connection: the first one, and another each time the last one
   * ended (they do not reconnect on their own: see reconnector.ts).
   */
  open(): Redis | Promise<Redis>;
  /** Silence after which a PING checks that the connection is alive, while something is watched. */
  keepAliveMs: number;
  clock: Clock;
  logger: Logger;
  /**
   * True while a call on the lock of `channel` is in flight on the command connection: its
   * messages are then held back until {@link SharedSubscriber.callsSettled}, so a reply the
   * server sent before a change never reaches the lock's user after that change's message.
   */
  busy(channel: string): boolean;
}

/**
 * ONE pub/sub connection shared by every watched lock of a factory: each lock's channel is
 * subscribed while at least one watcher wants it.
 *
 * Health: a watcher hears `onHealth(true)` once its channel's SUBSCRIBE has been answered,
 * `onHealth(false)` when the connection drops (or stops answering the keep-alive PING), and
 * `true` again after baton has resubscribed on a new connection (opened after
 * {@link reconnectDelayMs} on the clock). Messages carry the new record and version, so
 * `onChange` delivers a snapshot.
 *
 * Keep-alive: while something is watched, a PING goes out only after `keepAliveMs` in which
 * nothing was heard (a message proves the connection alive); with nothing watched, none.
 */
export class SharedSubscriber {
  private readonly options: SubscriberOptions;
  private readonly channels = new Map<string, Channel>();
  private connection: Redis | undefined;
  private opening: Promise<void> | undefined;
  /** Bumped on every (re)connect, so a SUBSCRIBE answered on an old connection counts for nothing. */
  private epoch = 0;
  private keepAlive: TimerHandle | undefined;
  /** Monotonic time the connection last answered or delivered something. */
  private lastHeard = 0;
  private reopenTimer: TimerHandle | undefined;
  /** Channels to subscribe at the end of this tick (see queueSubscribe). */
  private toSubscribe: string[] = [];
  /** Connections opened in a row that ended before becoming ready (drives the backoff). */
  private failedOpens = 0;
  private closed = false;

  constructor(options: SubscriberOptions) {
    this.options = options;
  }

  /** Number of channels with watchers, for tests and diagnostics. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** The current connection, if any (for tests: e.g. to find its `CLIENT ID`). */
  get client(): Redis | undefined {
    return this.connection;
  }

  watch(channel: string, lock: string, handlers: WatchHandlers): () => void {
    if (this.closed) throw new Error(`${lock}: watch after close()`);
    const watcher: Watcher = { lock, handlers, healthy: false, stopped: false };
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { watchers: new Set(), subscribed: false, held: undefined };
      this.channels.set(channel, entry);
      entry.watchers.add(watcher);
      if (this.connection?.status === 'ready') this.queueSubscribe(channel);
    } else {
      entry.watchers.add(watcher);
      if (entry.subscribed) queueMicrotask(() => this.setHealth(watcher, true));
    }
    this.start();
    this.startKeepAlive();
    return () => this.unwatch(channel, watcher);
  }

  /** Whether `channel` has watchers (or is being subscribed for some). */
  watches(channel: string): boolean {
    return this.channels.size > 0 && this.channels.has(channel);
  }

  /** Whether a keep-alive timer is armed (for tests). */
  get keepAliveArmed(): boolean {
    return this.keepAlive !== undefined;
  }

  /**
   * The calls on `channel`'s lock have settled (and their callers have seen the replies, by
   * the time a macrotask runs): deliver the messages held back meanwhile, in order.
   */
  callsSettled(channel: string): void {
    const entry = this.channels.get(channel);
    if (!entry?.held || entry.held.length === 0) return;
    const held = entry.held;
    entry.held = [];
    setImmediate(() => {
      if (this.channels.get(channel) !== entry) return;
      // Messages that arrived after this flush was scheduled queue behind the held ones.
      const later = entry.held ?? [];
      entry.held = undefined;
      for (const message of held) this.deliverMessage(entry, message);
      if (later.length === 0) return;
      if (this.options.busy(channel)) entry.held = later; // a new call: wait for it too
      else for (const message of later) this.deliverMessage(entry, message);
    });
  }

  /** Drops the connection and opens another (the watches report unhealthy, then healthy again). */
  reconnect(): void {
    if (this.connection?.status === 'ready') this.connection.disconnect(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopKeepAlive();
    if (this.reopenTimer !== undefined) this.options.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    for (const entry of this.channels.values()) for (const watcher of entry.watchers) watcher.stopped = true;
    this.channels.clear();
    await this.opening?.catch(() => {});
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await closeClient(connection, this.options.clock);
  }

  private unwatch(channel: string, watcher: Watcher): void {
    watcher.stopped = true;
    const entry = this.channels.get(channel);
    if (!entry?.watchers.delete(watcher) || entry.watchers.size > 0) return;
    this.channels.delete(channel);
    if (this.channels.size === 0) this.stopKeepAlive();
    if (this.connection?.status === 'ready') this.connection.unsubscribe(channel).catch(() => {});
  }

  private start(): void {
    if (this.connection || this.opening || this.closed) return;
    this.opening = Promise.resolve()
      .then(() => this.options.open())
      .then(
        (connection) => {
          this.opening = undefined;
          if (this.closed) {
            void closeClient(connection, this.options.clock);
            return;
          }
          this.attach(connection);
        },
        (error: unknown) => {
          this.opening = undefined;
          this.options.logger.warn({ error: String(error) }, 'could not open the Redis subscriber connection; retrying');
          this.scheduleReopen();
        },
      );
  }

  private scheduleReopen(): void {
    if (this.closed || this.reopenTimer !== undefined) return;
    this.reopenTimer = this.options.clock.setTimeout(() => {
      this.reopenTimer = undefined;
      this.start();
    }, reconnectDelayMs(++this.failedOpens));
  }

  private attach(connection: Redis): void {
    this.connection = connection;
    connection.on('error', (error: Error) => {
      this.options.logger.debug({ error: error.message }, 'Redis subscriber connection error');
    });
    connection.on('ready', () => this.onReady(connection));
    connection.on('close', () => this.onDown(connection));
    connection.on('end', () => {
      this.onDown(connection);
      if (this.connection !== connection || this.closed) return;
      // Connections baton opens do not reconnect themselves: open another after the backoff
      // (on Cluster, possibly to another node).
      this.connection = undefined;
      this.scheduleReopen();
    });
    connection.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    if (connection.status === 'ready') this.onReady(connection);
  }

  private onReady(connection: Redis): void {
    if (connection !== this.connection || this.closed) return;
    this.epoch++;
    this.failedOpens = 0;
    this.lastHeard = this.options.clock.now();
    this.startKeepAlive();
    const channels = [...this.channels.keys()];
    for (let i = 0; i < channels.length; i += 1000) this.subscribe(channels.slice(i, i + 1000));
  }

  private onDown(connection: Redis): void {
    if (connection !== this.connection) return;
    this.epoch++;
    this.stopKeepAlive();
    for (const entry of this.channels.values()) {
      entry.subscribed = false;
      for (const watcher of entry.watchers) this.setHealth(watcher, false);
    }
  }

  /**
   * Channels first watched in the same tick (many locks starting at once) go out in ONE
   * SUBSCRIBE, sent once the tick's work is done.
   */
  private queueSubscribe(channel: string): void {
    this.toSubscribe.push(channel);
    if (this.toSubscribe.length > 1) return;
    process.nextTick(() => {
      const queued = this.toSubscribe;
      this.toSubscribe = [];
      // Dropped meanwhile: nobody needs it subscribed.
      const wanted = queued.filter((c) => this.channels.get(c)?.subscribed === false);
      for (let i = 0; i < wanted.length; i += 1000) this.subscribe(wanted.slice(i, i + 1000));
    });
  }

  private subscribe(channels: string[]): void {
    const connection = this.connection;
    if (!connection || channels.length === 0) return;
    const epoch = this.epoch;
    // An entry dropped and re-created meanwhile has its own SUBSCRIBE in flight.
    const entries = channels.map((channel) => this.channels.get(channel));
    connection.subscribe(...channels).then(
      () => {
        if (epoch !== this.epoch || connection !== this.connection) return;
        this.lastHeard = this.options.clock.now();
        for (const [i, channel] of channels.entries()) {
          const entry = this.channels.get(channel);
          if (!entry || entry !== entries[i]) continue;
          entry.subscribed = true;
          for (const watcher of entry.watchers) this.setHealth(watcher, true);
        }
      },
      (error: unknown) => {
        if (epoch !== this.epoch) return; // the connection dropped; onReady resubscribes
        if (isAuthError(error)) {
          // An ACL without these channels: reconnecting would not help. The watchers stay
          // unhealthy, so electors poll; the next reconnect tries again.
          this.options.logger.warn({ error: String(error), channels: channels.length }, 'SUBSCRIBE refused; watchers fall back to polling');
          return;
        }
        this.options.logger.warn({ error: String(error), channels: channels.length }, 'SUBSCRIBE failed; reconnecting the subscriber');
        connection.disconnect(true);
      },
    );
  }

  private onMessage(channel: string, message: string): void {
    this.lastHeard = this.options.clock.now();
    const entry = this.channels.get(channel);
    if (!entry) return;
    if (entry.held !== undefined || this.options.busy(channel)) {
      (entry.held ??= []).push(message);
      return;
    }
    this.deliverMessage(entry, message);
  }

  private deliverMessage(entry: Channel, message: string): void {
    // Decoded once for every watcher of the channel (snapshots are not modified by watchers).
    let snapshot: LockSnapshot | undefined;
    let decoded = false;
    for (const watcher of entry.watchers.size === 1 ? entry.watchers : [...entry.watchers]) {
      if (watcher.stopped) continue;
      if (!decoded) {
        decoded = true;
        try {
          snapshot = decodeMessage(message, watcher.lock);
        } catch (error) {
          this.options.logger.warn({ lock: watcher.lock, error: String(error) }, 'undecodable change message; the watcher re-reads');
        }
      }
      this.deliver(watcher, () => watcher.handlers.onChange(snapshot));
    }
  }

  private setHealth(watcher: Watcher, healthy: boolean): void {
    if (watcher.stopped || watcher.healthy === healthy) return;
    watcher.healthy = healthy;
    this.deliver(watcher, () => watcher.handlers.onHealth?.(healthy));
  }

  private deliver(watcher: Watcher, call: () => void): void {
    if (watcher.stopped) return;
    try {
      call();
    } catch (error) {
      this.options.logger.warn({ lock: watcher.lock, error: String(error) }, 'a watch handler threw');
    }
  }

  /**
   * A PING once `keepAliveMs` have passed since the connection was last heard from makes a
   * silently dead connection (no RST, no FIN) time out (ioredis' socketTimeout) and be
   * replaced. Armed only while a channel is watched; one timer, re-armed when it fires.
   */
  private startKeepAlive(delayMs = this.options.keepAliveMs): void {
    if (this.keepAlive !== undefined || this.channels.size === 0 || this.closed) return;
    const connection = this.connection;
    if (connection?.status !== 'ready') return;
    const { clock, keepAliveMs } = this.options;
    this.keepAlive = unrefTimer(
      clock.setTimeout(() => {
        this.keepAlive = undefined;
        if (connection !== this.connection || connection.status !== 'ready') return;
        const silentFor = clock.now() - this.lastHeard;
        if (silentFor < keepAliveMs) {
          this.startKeepAlive(keepAliveMs - silentFor);
          return;
        }
        this.lastHeard = clock.now(); // the next PING a full period after this one
        connection.ping().then(
          () => {
            this.lastHeard = clock.now();
          },
          () => {},
        );
        this.startKeepAlive();
      }, delayMs),
    );
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== undefined) this.options.clock.clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
  }
}
