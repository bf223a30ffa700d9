import type { Clock, Logger, NativePrimitives, NativeReadWrite, NativeSemaphore, WatchHandlers } from '@baton/core';
import type pg from 'pg';
import { ListenConnection } from './listen-connection.ts';
import { notifyChannel, quoteIdentifier } from './keys.ts';
import type { TableName } from './keys.ts';
import { PostgresReadWrite } from './postgres-read-write.ts';
import type { LocalReadWrite, ReadWriteHost } from './postgres-read-write.ts';
import { buildReadWriteStatements } from './read-write-sql.ts';
import type { ReadWriteStatements } from './read-write-sql.ts';
import { PostgresSemaphore } from './postgres-semaphore.ts';
import type { SemaphoreHost } from './postgres-semaphore.ts';
import { buildSemaphoreStatements } from './semaphore-sql.ts';
import type { SemaphoreStatements } from './semaphore-sql.ts';
import type { SessionConnection } from './session.ts';

/** What {@link PostgresPrimitives} takes from its factory. */
export interface PrimitivesSettings {
  table: TableName;
  clock: Clock;
  logger: Logger;
  clientConfig: pg.ClientConfig;
  applicationName: string;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  sessionFor(key: bigint): SessionConnection;
  ready(signal: AbortSignal | undefined): Promise<void>;
  keyOf(name: string): bigint;
  describe(name: string): string;
}

/**
 * The native semaphores and reader-writer locks a {@link PostgresLockFactory} offers core
 * (`ResourceLockFactory.primitives`): advisory locks on the factory's session connections
 * (see `PostgresSemaphore`, `PostgresReadWrite`), woken over a LISTEN connection of their own
 * (channel `baton:<schema>.<table>.read-write`), opened while anything waits.
 */
export class PostgresPrimitives implements NativePrimitives, ReadWriteHost, SemaphoreHost {
  readonly clock: Clock;
  readonly statements: ReadWriteStatements;
  readonly semaphoreStatements: SemaphoreStatements;
  private readonly slotBooks = new Map<bigint, Set<bigint>>();
  readonly channel: string;
  private readonly settings: PrimitivesSettings;
  private readonly locals = new Map<bigint, LocalReadWrite>();
  private readonly watchers = new Map<string, Set<WatchHandlers>>();
  private readonly lostListeners = new Set<{ session: SessionConnection; generation: number; listener: (reason: Error) => void }>();
  private readonly listen: ListenConnection;
  private healthy = false;
  private closed = false;

  constructor(settings: PrimitivesSettings) {
    this.settings = settings;
    this.clock = settings.clock;
    this.statements = buildReadWriteStatements(settings.table);
    this.semaphoreStatements = buildSemaphoreStatements(settings.table);
    this.channel = notifyChannel(settings.table.schema, `${settings.table.table}.read-write`);
    this.listen = new ListenConnection({
      clientConfig: settings.clientConfig,
      applicationName: `${settings.applicationName}:rw-listen`,
      connectTimeoutMs: settings.connectTimeoutMs,
      operationTimeoutMs: settings.operationTimeoutMs,
      logger: settings.logger,
      clock: settings.clock,
      channel: this.channel,
      listenStatement: `LISTEN ${quoteIdentifier(this.channel)}`,
      wanted: () => !this.closed && this.watchers.size > 0,
      onNotification: (payload) => {
        // Unknown payloads (none expected) wake everyone: they re-try.
        const targets = payload !== undefined && this.watchers.has(payload) ? [this.watchers.get(payload)!] : [...this.watchers.values()];
        for (const set of targets) for (const handlers of [...set]) handlers.onChange();
      },
      onHealth: (healthy) => {
        this.healthy = healthy;
        for (const set of this.watchers.values()) for (const handlers of [...set]) handlers.onHealth?.(healthy);
      },
    });
  }

  semaphore(name: string, permits: number): NativeSemaphore {
    return new PostgresSemaphore(this, name, permits);
  }

  localSlots(key: bigint): Set<bigint> {
    let book = this.slotBooks.get(key);
    if (book === undefined) this.slotBooks.set(key, (book = new Set()));
    return book;
  }

  readWrite(name: string, maxReaders: number): NativeReadWrite {
    return new PostgresReadWrite(this, name, maxReaders);
  }

  sessionFor(key: bigint): SessionConnection {
    return this.settings.sessionFor(key);
  }

  ready(signal: AbortSignal | undefined): Promise<void> {
    return this.settings.ready(signal);
  }

  keyOf(name: string): bigint {
    return this.settings.keyOf(name);
  }

  describe(name: string): string {
    return this.settings.describe(name);
  }

  local(key: bigint): LocalReadWrite {
    let local = this.locals.get(key);
    if (local === undefined) this.locals.set(key, (local = { readers: 0, writers: 0, slots: new Set() }));
    return local;
  }

  watch(key: bigint, handlers: WatchHandlers): () => void {
    if (this.closed) return () => {};
    const payload = String(key);
    let set = this.watchers.get(payload);
    if (set === undefined) this.watchers.set(payload, (set = new Set()));
    set.add(handlers);
    if (this.healthy) queueMicrotask(() => handlers.onHealth?.(true));
    else if (this.watchers.size === 1 && set.size === 1) this.listen.start();
    return () => {
      set.delete(handlers);
      if (set.size === 0 && this.watchers.get(payload) === set) this.watchers.delete(payload);
      if (this.watchers.size === 0) {
        this.healthy = false;
        void this.listen.stop();
      }
    };
  }

  onSessionLost(session: SessionConnection, generation: number, listener: (reason: Error) => void): () => void {
    const entry = { session, generation, listener };
    this.lostListeners.add(entry);
    return () => void this.lostListeners.delete(entry);
  }

  /** The factory's session connection `session` (generation `generation`) is gone, with its advisory locks. */
  sessionLost(session: SessionConnection, generation: number, reason: Error): void {
    for (const entry of [...this.lostListeners]) {
      if (entry.session === session && entry.generation === generation) entry.listener(reason);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    await this.listen.stop();
  }
}
