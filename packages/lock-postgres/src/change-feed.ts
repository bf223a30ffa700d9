import type { Clock, LockSnapshot, Logger, TimerHandle, WatchHandlers } from '@baton/core';
import pg from 'pg';
import { decodeNotice, decodeRow } from './codec.ts';
import type { RecordRow } from './codec.ts';
import { DEFAULTS } from './options.ts';
import { prepared } from './statements.ts';
import type { Statements } from './statements.ts';

/** How a {@link ChangeFeed} connects and what it runs. */
export interface ChangeFeedSettings {
  clientConfig: pg.ClientConfig;
  applicationName: string;
  connectTimeoutMs: number;
  /** Reads (the holder check) go through the factory's pool. */
  pool: pg.Pool;
  statements: Statements;
  channel: string;
  holderCheckIntervalMs: number;
  operationTimeoutMs: number;
  logger: Logger;
  clock: Clock;
  /** `describe()` of the lock called `name`, for errors. */
  describe(name: string): string;
}

interface Watched {
  key: bigint;
  /** Each watcher, with the identity of the lock it watches through. */
  handlers: Map<WatchHandlers, string>;
}

/** What the feed last reported (or first saw) for a name. */
interface Seen {
  /** Row version, or null when the row was missing. */
  version: bigint | null;
  holderGone: boolean;
  /** Order of this observation, to drop poll results that a notification overtook. */
  seq: number;
}

interface PollRow extends RecordRow {
  name: string;
  found: boolean;
  held: boolean;
}

/**
 * Change notifications for every watched lock of a factory, over two shared channels:
 * - one LISTEN connection on the table's channel, fed by the NOTIFY each write sends in its
 *   own statement: changes arrive with the new record, so followers need not re-read;
 * - one query every `holderCheckInterval` over all watched names, joining the records with
 *   `pg_locks`: a leader that crashed sends no NOTIFY, but its advisory lock vanishes, and
 *   the feed reports the record with `holderGone: true` so a follower takes over at once. It
 *   also catches writes a broken LISTEN connection missed, and deleted rows.
 *
 * `onHealth(true)` follows each successful LISTEN, `onHealth(false)` each loss of the
 * connection, which is reopened with backoff. The connection and the timer exist only while
 * something is watched.
 */
export class ChangeFeed {
  private readonly settings: ChangeFeedSettings;
  private readonly watched = new Map<string, Watched>();
  private readonly seen = new Map<string, Seen>();
  private seq = 0;

  private client: pg.Client | undefined;
  private connecting = false;
  private healthy = false;
  private reconnectDelayMs: number = DEFAULTS.minReconnectDelayMs;
  private reconnectTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;
  private pollTimer: TimerHandle | undefined;
  private polling = false;
  private closed = false;

  constructor(settings: ChangeFeedSettings) {
    this.settings = settings;
  }

  private clear(timer: TimerHandle | undefined): void {
    if (timer !== undefined) this.settings.clock.clearTimeout(timer);
  }

  /** Backend process id of the LISTEN connection, when open. */
  get processId(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  /**
   * Starts delivering changes of `name` to `handlers`, watching as `identity`.
   * @returns a function that stops it.
   */
  add(name: string, key: bigint, identity: string, handlers: WatchHandlers): () => void {
    if (this.closed) return () => {};
    let entry = this.watched.get(name);
    if (entry === undefined) this.watched.set(name, (entry = { key, handlers: new Map() }));
    entry.handlers.set(handlers, identity);
    if (this.healthy) queueMicrotask(() => this.call(handlers, 'onHealth', true));
    this.start();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      entry.handlers.delete(handlers);
      if (entry.handlers.size === 0 && this.watched.get(name) === entry) {
        this.watched.delete(name);
        this.seen.delete(name);
      }
      if (this.watched.size === 0) void this.stop();
    };
  }

  /** Stops everything for good. */
  async close(): Promise<void> {
    this.closed = true;
    this.watched.clear();
    await this.stop();
  }

  private start(): void {
    if (this.closed) return;
    void this.connect();
    this.pollTimer ??= this.settings.clock.setTimeout(() => void this.poll(), this.settings.holderCheckIntervalMs);
  }

  private async stop(): Promise<void> {
    this.clear(this.reconnectTimer);
    this.clear(this.pollTimer);
    this.clear(this.pingTimer);
    this.reconnectTimer = this.pollTimer = this.pingTimer = undefined;
    this.healthy = false;
    this.reconnectDelayMs = DEFAULTS.minReconnectDelayMs;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  // ---- LISTEN -------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.client !== undefined || this.connecting || this.closed || this.watched.size === 0) return;
    this.connecting = true;
    const { clientConfig, applicationName, connectTimeoutMs, logger } = this.settings;
    const client = new pg.Client({
      ...clientConfig,
      application_name: `${applicationName}:listen`,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
    });
    let down = false;
    const onDown = (reason: Error): void => {
      if (down) return;
      down = true;
      if (this.client !== client) return;
      this.client = undefined;
      this.clear(this.pingTimer);
      logger.debug({ error: reason.message }, 'baton postgres LISTEN connection lost');
      this.setHealth(false);
      this.scheduleReconnect();
    };
    client.on('error', onDown);
    client.on('end', () => onDown(new Error('connection ended')));
    client.on('notification', (message) => {
      if (this.client === client && message.channel === this.settings.channel) this.onNotification(message.payload);
    });
    try {
      await client.connect();
      await client.query(this.settings.statements.listen);
    } catch (error) {
      down = true;
      this.connecting = false;
      logger.debug({ error: (error as Error).message }, 'baton postgres LISTEN failed');
      await client.end().catch(() => {});
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (down || this.closed || this.watched.size === 0) {
      down = true;
      await client.end().catch(() => {});
      if (!this.closed && this.watched.size > 0) this.scheduleReconnect();
      return;
    }
    this.client = client;
    this.reconnectDelayMs = DEFAULTS.minReconnectDelayMs;
    this.schedulePing(client, onDown);
    this.setHealth(true);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.watched.size === 0 || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, DEFAULTS.maxReconnectDelayMs);
    this.reconnectTimer = this.settings.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  /**
   * An idle LISTEN connection whose peer vanished (partition) would never notice: ask it
   * something now and then, and drop it when the answer does not come.
   */
  private schedulePing(client: pg.Client, onDown: (reason: Error) => void): void {
    const every = Math.max(1_000, Math.min(5_000, this.settings.operationTimeoutMs));
    this.pingTimer = this.settings.clock.setTimeout(() => {
      if (this.client !== client) return;
      const deadline = this.settings.clock.setTimeout(() => {
        onDown(new Error(`LISTEN connection did not answer within ${this.settings.operationTimeoutMs} ms`));
        client.end().catch(() => {});
      }, this.settings.operationTimeoutMs);
      client.query('SELECT 1').then(
        () => {
          this.clear(deadline);
          if (this.client === client) this.schedulePing(client, onDown);
        },
        () => this.clear(deadline),
      );
    }, every);
  }

  private setHealth(healthy: boolean): void {
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    for (const entry of this.watched.values()) for (const h of entry.handlers.keys()) this.call(h, 'onHealth', healthy);
  }

  private onNotification(payload: string | undefined): void {
    const notice = decodeNotice(payload);
    if (notice === undefined) {
      // Too large to send, or not ours: every watcher re-reads.
      for (const name of this.watched.keys()) this.deliver(name, undefined);
      return;
    }
    if (!this.watched.has(notice.name)) return;
    let version: bigint;
    try {
      version = BigInt(notice.version);
    } catch {
      return;
    }
    const seen = this.seen.get(notice.name);
    if (seen !== undefined && seen.version !== null && version <= seen.version) return;
    this.seen.set(notice.name, { version, holderGone: false, seq: ++this.seq });
    this.deliver(notice.name, notice.record === undefined ? undefined : { record: notice.record, version: notice.version });
  }

  // ---- holder check -------------------------------------------------------------------------

  private async poll(): Promise<void> {
    this.pollTimer = undefined;
    if (this.closed || this.watched.size === 0) return;
    if (!this.polling) {
      this.polling = true;
      try {
        await this.pollOnce();
      } catch (error) {
        this.settings.logger.debug({ error: (error as Error).message }, 'baton postgres holder check failed');
      } finally {
        this.polling = false;
      }
    }
    if (!this.closed && this.watched.size > 0 && this.pollTimer === undefined) {
      this.pollTimer = this.settings.clock.setTimeout(() => void this.poll(), this.settings.holderCheckIntervalMs);
    }
  }

  private async pollOnce(): Promise<void> {
    const names = [...this.watched.keys()];
    const keys = names.map((name) => this.watched.get(name)!.key.toString());
    const startSeq = this.seq;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.settings.clock.setTimeout(() => reject(new Error('holder check timed out')), this.settings.operationTimeoutMs);
    });
    let rows: PollRow[];
    try {
      rows = (await Promise.race([this.settings.pool.query<PollRow>(prepared(this.settings.statements.poll, [names, keys])), timeout])).rows;
    } finally {
      this.clear(timer);
    }
    for (const row of rows) {
      if (!this.watched.has(row.name)) continue;
      const seen = this.seen.get(row.name);
      if (seen !== undefined && seen.seq > startSeq) continue; // a notification overtook this read
      if (!row.found) {
        this.seen.set(row.name, { version: null, holderGone: false, seq: ++this.seq });
        if (seen !== undefined && seen.version !== null) this.deliver(row.name, null);
        continue;
      }
      const version = BigInt(row.version!);
      let snapshot: LockSnapshot | undefined;
      try {
        const record = decodeRow(row, this.settings.describe(row.name));
        snapshot = { record, version: row.version!, holderGone: record.holderIdentity !== '' && !row.held };
      } catch {
        snapshot = undefined; // corrupt: watchers re-read and get the InvalidRecordError
      }
      const holderGone = snapshot?.holderGone === true;
      if (seen !== undefined && seen.version !== null && version < seen.version) continue;
      this.seen.set(row.name, { version, holderGone, seq: ++this.seq });
      const changed =
        seen === undefined
          ? holderGone // first sight: only a dead holder is news
          : seen.version === null || version > seen.version || holderGone !== seen.holderGone;
      if (!changed) continue;
      // Only news that the holder's session is gone: not for watchers with the holder's own
      // identity. They learned it through onSessionLost, and a follower gets the first chance.
      const onlyGone = holderGone && (seen === undefined || (seen.version === version && !seen.holderGone));
      this.deliver(row.name, snapshot, onlyGone ? snapshot?.record.holderIdentity : undefined);
    }
  }

  // ---- delivery -----------------------------------------------------------------------------

  private deliver(name: string, snapshot: LockSnapshot | null | undefined, skipIdentity?: string): void {
    const entry = this.watched.get(name);
    if (entry === undefined) return;
    for (const [handlers, identity] of entry.handlers) {
      if (identity === skipIdentity) continue;
      this.call(handlers, 'onChange', snapshot === null || snapshot === undefined ? snapshot : structuredClone(snapshot));
    }
  }

  private call(handlers: WatchHandlers, method: 'onChange' | 'onHealth', arg: unknown): void {
    try {
      if (method === 'onChange') handlers.onChange(arg as LockSnapshot | null | undefined);
      else handlers.onHealth?.(arg as boolean);
    } catch (error) {
      this.settings.logger.warn({ error: (error as Error).message }, `baton postgres watch handler ${method} threw`);
    }
  }
}
