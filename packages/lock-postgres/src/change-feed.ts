import type { Clock, LockSnapshot, Logger, TimerHandle, WatchHandlers } from '@baton/core';
import pg from 'pg';
import { decodeNotice, decodeRow } from './codec.ts';
import type { RecordRow } from './codec.ts';
import { ListenConnection } from './listen-connection.ts';
import { HolderWait } from './holder-wait.ts';
import { SilenceWatch } from './silence-watch.ts';
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
  /** True when this process holds `name` itself: its holder is never checked. */
  heldHere(name: string): boolean;
}

/** How long a freed advisory lock waits for the release's NOTIFY before the holder is checked. */
const FREED_GRACE_MS = 50;

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

  private readonly listen: ListenConnection;
  private healthy = false;
  private pollTimer: TimerHandle | undefined;
  private polling = false;
  private closed = false;
  /** While the LISTEN connection is healthy, the only trigger of a holder check. */
  private readonly silence: SilenceWatch;
  /** Blocks on the advisory lock of one lock held elsewhere, to hear of its holder's end at once. */
  private readonly holderWait: HolderWait;

  constructor(settings: ChangeFeedSettings) {
    this.settings = settings;
    this.silence = new SilenceWatch({
      clock: settings.clock,
      minSilenceMs: settings.holderCheckIntervalMs,
      onSilent: (names) => {
        const check: string[] = [];
        for (const name of names) {
          // The lock the holder wait blocks on needs no check: its holder's end ends the wait.
          if (this.holderWait.isWaitingOn(name)) this.silence.stillThere(name);
          else check.push(name);
        }
        if (check.length > 0) void this.checkHolders(check);
      },
    });
    this.listen = new ListenConnection({
      ...settings,
      listenStatement: settings.statements.listen,
      wanted: () => !this.closed && this.watched.size > 0,
      onNotification: (payload) => this.onNotification(payload),
      onHealth: (healthy) => {
        this.setHealth(healthy);
        if (!healthy) this.startPolling();
      },
    });
    this.holderWait = new HolderWait({
      clientConfig: settings.clientConfig,
      applicationName: settings.applicationName,
      connectTimeoutMs: settings.connectTimeoutMs,
      logger: settings.logger,
      clock: settings.clock,
      onFree: (name) => this.freed(name),
    });
  }

  private clear(timer: TimerHandle | undefined): void {
    if (timer !== undefined) this.settings.clock.clearTimeout(timer);
  }

  /** Backend process id of the LISTEN connection, when open. */
  get processId(): number | undefined {
    return this.listen.processId;
  }

  /**
   * Starts delivering changes of `name` to `handlers`, watching as `identity`.
   * @returns a function that stops it.
   */
  add(name: string, key: bigint, identity: string, handlers: WatchHandlers): () => void {
    if (this.closed) return () => {};
    let entry = this.watched.get(name);
    if (entry === undefined) {
      this.watched.set(name, (entry = { key, handlers: new Map() }));
      this.silence.lookSoon(name);
    }
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
        this.silence.drop(name);
        this.retargetWait();
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
    this.listen.start();
  }

  /** Polls every watched name each `holderCheckInterval` while the LISTEN connection is down. */
  private startPolling(): void {
    if (this.closed || this.healthy || this.watched.size === 0) return;
    this.pollTimer ??= this.settings.clock.setTimeout(() => void this.poll(), this.settings.holderCheckIntervalMs);
  }

  private async stop(): Promise<void> {
    this.clear(this.pollTimer);
    this.pollTimer = undefined;
    this.silence.close();
    this.healthy = false;
    await Promise.all([this.holderWait.stop(), this.listen.stop()]);
  }

  private setHealth(healthy: boolean): void {
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    if (healthy) {
      // Changes arrive as notifications again; the holder is checked only when one goes silent.
      this.clear(this.pollTimer);
      this.pollTimer = undefined;
    } else {
      this.silence.close();
      this.startPolling();
    }
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
    const holder = notice.record?.holderIdentity ?? '';
    if (holder !== '' && !this.settings.heldHere(notice.name)) this.silence.wrote(notice.name, holder, notice.record!.leaseDurationMs);
    else this.silence.forget(notice.name);
    this.retargetWait();
    this.deliver(notice.name, notice.record === undefined ? undefined : { record: notice.record, version: notice.version });
  }

  /**
   * What this process's locks read (or found stored) for `name` (`heldHere`: whether this
   * process holds it now): a lock held elsewhere is watched for its holder's end from now
   * on, without waiting for its next renewal.
   */
  sawRecord(name: string, snapshot: LockSnapshot, heldHere: boolean): void {
    if (!this.watched.has(name)) return;
    const holder = snapshot.record.holderIdentity;
    if (holder !== '' && snapshot.holderGone !== true && !heldHere) {
      this.silence.sawHolder(name, holder, snapshot.record.leaseDurationMs);
    } else {
      this.silence.forget(name);
    }
    this.retargetWait();
  }

  /**
   * The advisory lock of `name` was free for a moment. A release says so itself (its NOTIFY
   * follows within milliseconds); a holder that crashed or was cut off says nothing: check
   * it unless a notification came in the meantime.
   */
  private freed(name: string): void {
    const version = this.seen.get(name)?.version;
    this.silence.forget(name);
    this.retargetWait();
    this.settings.clock.setTimeout(() => {
      if (this.closed || !this.watched.has(name)) return;
      if (this.seen.get(name)?.version === version) void this.checkHolders([name], true);
    }, Math.min(FREED_GRACE_MS, this.settings.holderCheckIntervalMs));
  }

  /** The holder wait follows the first lock held elsewhere. */
  private retargetWait(): void {
    const name = this.silence.first();
    this.holderWait.target(name, name === undefined ? undefined : this.watched.get(name)?.key);
  }

  /**
   * A holder went silent, or its advisory lock was free for a moment (`freed`): one query for
   * those names; a holder still there is watched again.
   */
  private async checkHolders(names: string[], freed = false): Promise<void> {
    if (this.closed || (!this.healthy && !freed)) return;
    try {
      const rows = await this.pollOnce(names.filter((name) => this.watched.has(name)));
      const gone = new Set<string>();
      for (const row of rows) {
        // Closed, or no longer watched, while the check was under way: tracking it again
        // would arm the silence timer for good (and keep the process alive after close).
        if (!this.watched.has(row.name)) continue;
        const holder = typeof row.holder_identity === 'string' ? row.holder_identity : '';
        const lease = Number(row.lease_duration_ms);
        if (row.found && row.held && holder !== '' && lease > 0 && !this.settings.heldHere(row.name)) this.silence.sawHolder(row.name, holder, lease);
        else this.silence.forget(row.name);
        if (row.found && !row.held && holder !== '') gone.add(holder);
      }
      // A holder found gone most likely took its other locks with it (one session holds them
      // all): check those too, at once, rather than when each one's renewals go silent.
      const alsoHeldByGone = this.silence.heldBy(gone);
      if (alsoHeldByGone.length > 0) void this.checkHolders(alsoHeldByGone, true);
    } catch (error) {
      this.settings.logger.debug({ error: (error as Error).message }, 'baton postgres holder check failed');
      for (const name of names) this.silence.stillThere(name);
    }
    this.retargetWait();
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
    if (!this.closed && !this.healthy && this.watched.size > 0 && this.pollTimer === undefined) {
      this.pollTimer = this.settings.clock.setTimeout(() => void this.poll(), this.settings.holderCheckIntervalMs);
    }
  }

  /** Reads `names` (default: every watched name) with their holders' advisory locks, and reports what changed. */
  private async pollOnce(names = [...this.watched.keys()]): Promise<PollRow[]> {
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
    return rows;
  }

  // ---- delivery -----------------------------------------------------------------------------

  /** `snapshot` was decoded for this delivery alone: the first watcher gets it, every other one a copy of its own. */
  private deliver(name: string, snapshot: LockSnapshot | null | undefined, skipIdentity?: string): void {
    const entry = this.watched.get(name);
    if (entry === undefined) return;
    let given = false;
    for (const [handlers, identity] of entry.handlers) {
      if (identity === skipIdentity) continue;
      this.call(handlers, 'onChange', snapshot === null || snapshot === undefined || !given ? snapshot : structuredClone(snapshot));
      given = true;
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
