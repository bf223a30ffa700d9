import { AbortedError, LockNotFoundError } from '@baton/core';
import type { Clock, LockCallOptions, NativeAttempt, NativeReadWrite, NativeWriteAttempt, WatchHandlers } from '@baton/core';
import { toLockError } from './errors.ts';
import { AdvisoryHold } from './advisory-hold.ts';
import type { HoldSite } from './advisory-hold.ts';
import type { ReadWriteStatements } from './read-write-sql.ts';
import type { SessionConnection } from './session.ts';

/** What this process holds of one reader-writer lock, on any of its session connections. */
export interface LocalReadWrite {
  readers: number;
  /** Reader slot keys held here (the same session could take one twice). */
  readonly slots: Set<bigint>;
  /** 1 while a writer of this process holds the gate (waiting for readers or writing). */
  writers: number;
}

/** What a {@link PostgresReadWrite} needs from its factory. */
export interface ReadWriteHost {
  readonly clock: Clock;
  readonly statements: ReadWriteStatements;
  readonly channel: string;
  sessionFor(key: bigint): SessionConnection;
  ready(signal: AbortSignal | undefined): Promise<void>;
  keyOf(name: string): bigint;
  describe(name: string): string;
  /** This process's holds of the lock whose data key is `key` (one object per key). */
  local(key: bigint): LocalReadWrite;
  /** Wake-ups for the lock whose data key is `key` (LISTEN). */
  watch(key: bigint, handlers: WatchHandlers): () => void;
  onSessionLost(session: SessionConnection, generation: number, listener: (reason: Error) => void): () => void;
}

/**
 * A reader-writer lock on PostgreSQL advisory locks, bound to the session connection (see
 * read-write-sql.ts): a read holds the *data* lock shared, a write holds the *gate* (from the
 * moment it asks: new readers back off, so writers are not starved) and then the data lock
 * exclusively, once the reads have ended. A crashed holder's locks go with its session. Write
 * tokens come from a counter row of the record table (`<name>.rw-tokens`), bumped when the
 * gate is taken; a read's epoch is that counter as it read it. Releases NOTIFY the waiters.
 *
 * One process's reads and write may share a session connection, where PostgreSQL's locks do
 * not conflict with each other; the process's own book ({@link LocalReadWrite}) keeps them
 * apart: no read while a local writer holds the gate, no data lock for a writer while local
 * reads are held.
 */
export class PostgresReadWrite implements NativeReadWrite {
  private readonly host: ReadWriteHost;
  private readonly name: string;
  private readonly dataKey: bigint;
  private readonly gateKey: bigint;
  private readonly counter: string;
  private readonly slotKeys: bigint[];
  private readonly description: string;
  private readonly local: LocalReadWrite;
  /** The writer's hold, while one of this object holds the gate. */
  private writer: { identity: string; session: SessionConnection; generation: number; data: boolean } | undefined;

  constructor(host: ReadWriteHost, name: string, maxReaders: number) {
    this.host = host;
    this.name = name;
    this.dataKey = host.keyOf(`${name}.rw-data`);
    this.gateKey = host.keyOf(`${name}.rw-gate`);
    this.counter = `${name}.rw-tokens`;
    this.slotKeys = Array.from({ length: maxReaders }, (_, i) => host.keyOf(`${name}.rw-reader-${i}`));
    this.description = `${host.describe(name)} (reader-writer lock)`;
    this.local = host.local(this.dataKey);
  }

  async tryRead(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeAttempt> {
    const slots = this.slotKeys.filter((key) => !this.local.slots.has(key));
    if (this.local.writers > 0 || slots.length === 0) return { granted: false, retryInMs: Number.POSITIVE_INFINITY };
    await this.host.ready(options?.signal);
    const session = this.host.sessionFor(this.dataKey);
    const generation = await session.open();
    this.local.readers++; // before the statement: a local writer must not take the data lock meanwhile
    for (const key of slots) this.local.slots.add(key); // nor another local read these slots
    let row: { slot: string | null; result: string };
    try {
      [row] = (await session.query(generation, this.host.statements.read, [this.dataKey, this.gateKey, this.counter, slots])) as [typeof row];
    } catch (error) {
      this.local.readers--;
      for (const key of slots) this.local.slots.delete(key);
      throw toLockError(error, this.description);
    }
    const refused = row.result === 'full' || row.result === 'writing' || row.result === 'writer';
    const slot = refused || row.slot === null ? undefined : BigInt(row.slot);
    for (const key of slots) if (key !== slot) this.local.slots.delete(key);
    if (refused) {
      this.local.readers--;
      return { granted: false, retryInMs: Number.POSITIVE_INFINITY };
    }
    const hold = new AdvisoryHold(this.site(session, generation, undefined, slot), identity, Number(row.result), leaseDurationMs);
    return this.handOver(hold, options);
  }

  async tryWrite(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeWriteAttempt> {
    if (this.local.writers > 0) return { granted: false, retryInMs: Number.POSITIVE_INFINITY };
    await this.host.ready(options?.signal);
    const session = this.host.sessionFor(this.gateKey);
    const generation = await session.open();
    this.local.writers++;
    let row: { gate: boolean; token: string | null; data: boolean };
    try {
      const tryData = this.local.readers === 0;
      [row] = (await session.query(generation, this.host.statements.write, [this.dataKey, this.gateKey, this.counter, tryData])) as [typeof row];
    } catch (error) {
      this.local.writers--;
      throw toLockError(error, this.description);
    }
    if (!row.gate) {
      this.local.writers--;
      return { granted: false, retryInMs: Number.POSITIVE_INFINITY };
    }
    const writer = { identity, session, generation, data: row.data };
    this.writer = writer;
    const hold = new AdvisoryHold(this.site(session, generation, writer), identity, Number(row.token), leaseDurationMs);
    const granted = await this.handOver(hold, options);
    return { ...granted, readers: row.data ? 0 : 1, retryInMs: Number.POSITIVE_INFINITY };
  }

  async readers(writer: string, _options?: LockCallOptions): Promise<{ readers: number; retryInMs: number }> {
    const held = this.writer;
    if (held === undefined || held.identity !== writer || held.session.liveGeneration !== held.generation) {
      throw new LockNotFoundError(`${this.description}: "${writer}" no longer holds the gate`);
    }
    if (!held.data && this.local.readers === 0) {
      try {
        const [row] = await held.session.query<{ ok: boolean }>(held.generation, this.host.statements.drain, [this.dataKey]);
        held.data = row!.ok;
      } catch (error) {
        throw toLockError(error, this.description);
      }
    }
    return { readers: held.data ? 0 : Math.max(1, this.local.readers), retryInMs: Number.POSITIVE_INFINITY };
  }

  watch(handlers: WatchHandlers): () => void {
    return this.host.watch(this.dataKey, handlers);
  }

  /** A grant whose caller gave up meanwhile is given back at once (its statement ran regardless). */
  private async handOver(hold: AdvisoryHold, options: LockCallOptions | undefined): Promise<Extract<NativeAttempt, { granted: true }>> {
    if (options?.signal?.aborted) {
      await hold.close();
      throw new AbortedError(`${this.description}: aborted`, { cause: options.signal.reason });
    }
    return { granted: true, hold, snapshot: hold.snapshot };
  }

  /** Where a hold lives; `writer` for a write (whose data lock may be taken later), none for a read. */
  private site(session: SessionConnection, generation: number, writer: { data: boolean } | undefined, slot?: bigint): HoldSite {
    const read = writer === undefined;
    const { statements, channel, clock } = this.host;
    const payload = String(this.dataKey);
    return {
      session,
      generation,
      clock,
      description: `${this.description} ${read ? 'read' : 'write'}`,
      renewStatement: statements.renew,
      unlock: async () => {
        if (read) {
          await session.query(generation, statements.releaseRead, [this.dataKey, slot, channel, payload]);
          return;
        }
        await session.query(generation, statements.releaseWrite, [this.dataKey, this.gateKey, writer.data, channel, payload]);
      },
      ended: () => {
        if (read) {
          this.local.readers--;
          if (slot !== undefined) this.local.slots.delete(slot);
        } else {
          this.local.writers--;
          if (this.writer === writer) this.writer = undefined;
        }
      },
      onSessionLost: (listener) => this.host.onSessionLost(session, generation, listener),
    };
  }
}
