import type { Logger, WatchHandlers } from '@baton/core';
import type { Redis } from 'ioredis';
import { closeClient } from './clients.ts';
import { decodeMessage } from './codec.ts';
import { isAuthError } from './errors.ts';

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
}

export interface SubscriberOptions {
  /** Opens a new subscriber connection (the first one, or after the last one gave up). */
  open(): Redis | Promise<Redis>;
  /** How often a PING checks that the connection is alive; 0 disables it. */
  heartbeatMs: number;
  logger: Logger;
}

/**
 * ONE pub/sub connection shared by every watched lock of a factory: each lock's channel is
 * subscribed while at least one watcher wants it.
 *
 * Health: a watcher hears `onHealth(true)` once its channel's SUBSCRIBE has been answered,
 * `onHealth(false)` when the connection drops (or stops answering the heartbeat PING), and
 * `true` again after baton has resubscribed on the new connection. Messages carry the new
 * record and version, so `onChange` delivers a snapshot.
 */
export class SharedSubscriber {
  private readonly options: SubscriberOptions;
  private readonly channels = new Map<string, Channel>();
  private connection: Redis | undefined;
  private opening: Promise<void> | undefined;
  /** Bumped on every (re)connect, so a SUBSCRIBE answered on an old connection counts for nothing. */
  private epoch = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
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
      entry = { watchers: new Set(), subscribed: false };
      this.channels.set(channel, entry);
      entry.watchers.add(watcher);
      if (this.connection?.status === 'ready') this.subscribe([channel]);
    } else {
      entry.watchers.add(watcher);
      if (entry.subscribed) queueMicrotask(() => this.setHealth(watcher, true));
    }
    this.start();
    return () => this.unwatch(channel, watcher);
  }

  /** Drops the connection and reconnects (the watches report unhealthy, then healthy again). */
  reconnect(): void {
    if (this.connection?.status === 'ready') this.connection.disconnect(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopHeartbeat();
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    for (const entry of this.channels.values()) for (const watcher of entry.watchers) watcher.stopped = true;
    this.channels.clear();
    await this.opening?.catch(() => {});
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await closeClient(connection);
  }

  private unwatch(channel: string, watcher: Watcher): void {
    watcher.stopped = true;
    const entry = this.channels.get(channel);
    if (!entry?.watchers.delete(watcher) || entry.watchers.size > 0) return;
    this.channels.delete(channel);
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
            void closeClient(connection);
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
    if (this.closed || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.start();
    }, 250);
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
      // The connection gave up reconnecting (on Cluster: its node is gone); open another.
      this.connection = undefined;
      this.scheduleReopen();
    });
    connection.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    if (connection.status === 'ready') this.onReady(connection);
  }

  private onReady(connection: Redis): void {
    if (connection !== this.connection || this.closed) return;
    this.epoch++;
    this.startHeartbeat(connection);
    const channels = [...this.channels.keys()];
    for (let i = 0; i < channels.length; i += 1000) this.subscribe(channels.slice(i, i + 1000));
  }

  private onDown(connection: Redis): void {
    if (connection !== this.connection) return;
    this.epoch++;
    this.stopHeartbeat();
    for (const entry of this.channels.values()) {
      entry.subscribed = false;
      for (const watcher of entry.watchers) this.setHealth(watcher, false);
    }
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
    const entry = this.channels.get(channel);
    if (!entry) return;
    for (const watcher of [...entry.watchers]) {
      if (watcher.stopped) continue;
      let snapshot;
      try {
        snapshot = decodeMessage(message, watcher.lock);
      } catch (error) {
        this.options.logger.warn({ lock: watcher.lock, error: String(error) }, 'undecodable change message; the watcher re-reads');
        snapshot = undefined;
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

  /** A PING now and then makes a silently dead connection (no RST, no FIN) time out and reconnect. */
  private startHeartbeat(connection: Redis): void {
    this.stopHeartbeat();
    if (this.options.heartbeatMs <= 0) return;
    this.heartbeat = setInterval(() => {
      if (connection.status === 'ready') connection.ping().catch(() => {});
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
