import { BackendUnavailableError, LockConflictError, LockNotFoundError, newTermOver, validateRecord } from '@baton/core';
import type { AcquireIfFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';
import type { Etcd3, IKeyValue } from 'etcd3';
import { decodeSnapshot } from './codec.ts';
import { EtcdConnection } from './connection.ts';
import type { CallOptions } from './connection.ts';
import { isLeaseNotFound } from './errors.ts';
import { lockKeys } from './keys.ts';
import type { LockKeys } from './keys.ts';
import { resolveFactoryOptions, validateLockName } from './options.ts';
import type { EtcdLockOptions } from './options.ts';
import { UNKNOWN_COUNTER, counterRaceError, readLock, recordChangedError, writeLock } from './transactions.ts';
import type { CounterState, WritePlan } from './transactions.ts';
import type { KeyEvent } from './watch-hub.ts';

/** How a factory hands its shared connection to the locks it makes; not part of the public options. */
export const SHARED_CONNECTION = Symbol('baton.lock-etcd.connection');

/** @internal */
export interface SharedConnectionOption {
  [SHARED_CONNECTION]?: EtcdConnection;
}

/** How many recently seen versions a lock remembers the record of (the elector uses the latest). */
const REMEMBERED_VERSIONS = 8;
/** Attempts of one write when the fencing counter moved under it (only ever by hand). */
const COUNTER_ATTEMPTS = 3;

/**
 * A {@link ResourceLock} on etcd: the record is one key, `<keyPrefix><name>`, written only by
 * compare-and-swap transactions on its mod revision, which is the lock's version. A new term
 * also moves the fencing counter `<fencePrefix><name>` in the same transaction.
 *
 * Made standalone (`new EtcdLock({ connection, name, identity })`) it opens its own client
 * and closes it in `close()`; made by an {@link EtcdLockFactory} it shares the factory's.
 */
export class EtcdLock implements ResourceLock {
  readonly identity: string;
  /** The lock's name. */
  readonly name: string;
  /** The record and counter keys of this lock. */
  readonly keys: LockKeys;
  /**
   * With the session option: runs `listener` when the etcd lease this process's holders
   * attach their records to is lost (see the README's "Session"). Absent without the option.
   */
  readonly onSessionLost?: (listener: (reason: Error) => void) => () => void;
  /** With the session option: 2/3 of the session lease's TTL (see `ResourceLock.silentHolderTimeoutMs`). */
  readonly silentHolderTimeoutMs?: number;
  private readonly connection: EtcdConnection;
  private readonly ownsConnection: boolean;
  private readonly description: string;
  private readonly watches = new Set<() => void>();
  /** Records of recently seen versions: an update on one of them needs no read first. */
  private readonly known = new Map<string, LeaderElectionRecord>();
  private counter: CounterState = UNKNOWN_COUNTER;
  /** The highest store revision whose state this lock has seen (reads, writes, events). */
  private seenRevision = 0n;
  /** The newest state this lock has seen: `null` absent, `undefined` not known yet. */
  private latest: LockSnapshot | null | undefined;
  /** The store revision of the last read, where a new watch starts. */
  private lastReadRevision: string | undefined;

  /** @throws ConfigError naming the bad option. */
  constructor(options: EtcdLockOptions) {
    validateLockName(options?.name, options?.identity);
    const shared = (options as SharedConnectionOption)[SHARED_CONNECTION];
    this.connection = shared ?? new EtcdConnection(resolveFactoryOptions(options));
    this.ownsConnection = shared === undefined;
    this.name = options.name;
    this.identity = options.identity;
    const { keyPrefix, fencePrefix } = this.connection.options;
    this.keys = lockKeys(keyPrefix, fencePrefix, options.name);
    this.description = `etcd ${keyPrefix}${options.name}`;
    const session = this.connection.session;
    if (session) {
      this.onSessionLost = (listener) => session.onLost(listener);
      // The record goes with the session lease, a TTL after the last keep-alive etcd received;
      // keep-alives go every TTL / 3, so counted from any successful call: 2/3 × TTL at least.
      this.silentHolderTimeoutMs = Math.floor((this.connection.options.sessionTtlSeconds! * 1000 * 2) / 3);
      // A lock is made to be campaigned on: have the lease ready before the first acquisition.
      session.prepare();
    }
  }

  /** The client (yours when you passed one in). */
  get client(): Etcd3 {
    return this.connection.client;
  }

  describe(): string {
    return this.description;
  }

  get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    return this.connection.exec(this.description, 'get', options?.signal, async (call) => {
      const read = await readLock(this.client, this.keys, this.description, call);
      this.counter = read.counter;
      this.lastReadRevision = read.revision;
      this.saw(read.revision, read.snapshot);
      return read.snapshot;
    });
  }

  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    const checked = validateRecord(record, this.description);
    return this.write(checked, undefined, options?.signal, 'create');
  }

  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    const checked = validateRecord(record, this.description);
    if (typeof expectedVersion !== 'string' || !/^[1-9][0-9]*$/.test(expectedVersion)) {
      return Promise.reject(new LockConflictError(`${this.description}: ${JSON.stringify(expectedVersion)} is not a version of this lock`));
    }
    return this.write(checked, expectedVersion, options?.signal, 'update');
  }

  /**
   * Watches the record key on the factory's one watch stream, from the revision this lock
   * last read. `onChange` gets the new snapshot of a write, `null` for a deletion (by hand,
   * or by an expired session lease), and `undefined` for a value that is not a record (the
   * elector re-reads and reports it). Events this lock has already seen are not repeated.
   */
  watch(handlers: WatchHandlers): () => void {
    const stop = this.connection.watches.watch(
      this.keys.record,
      {
        lock: this.description,
        onEvent: (event) => this.onWatchEvent(event, handlers),
        onHealth: (healthy) => handlers.onHealth?.(healthy),
      },
      this.lastReadRevision,
    );
    const stopOnce = (): void => {
      if (this.watches.delete(stopOnce)) stop();
    };
    this.watches.add(stopOnce);
    return stopOnce;
  }

  /** Stops this lock's watches; closes the client only when the lock opened it itself. */
  async close(): Promise<void> {
    for (const stop of [...this.watches]) stop();
    if (this.ownsConnection) await this.connection.close();
  }

  private onWatchEvent(event: KeyEvent, handlers: WatchHandlers): void {
    const revision = BigInt(event.kind === 'put' ? event.kv.mod_revision : event.revision);
    if (revision <= this.seenRevision) return; // already reflected in a read or a write of ours
    if (event.kind === 'delete') {
      this.saw(event.revision, null);
      handlers.onChange(null);
      return;
    }
    let snapshot: LockSnapshot | undefined;
    try {
      snapshot = decodeSnapshot(event.kv, this.description);
    } catch {
      snapshot = undefined; // the elector re-reads, and get() reports the InvalidRecordError
    }
    this.saw(event.kv.mod_revision, snapshot ?? null);
    handlers.onChange(snapshot);
  }

  /** Remembers what the store held at `revision`. */
  private saw(revision: string, snapshot: LockSnapshot | null): void {
    const at = BigInt(revision);
    if (at >= this.seenRevision) {
      this.seenRevision = at;
      this.latest = snapshot;
    }
    if (!snapshot) return;
    this.known.delete(snapshot.version);
    this.known.set(snapshot.version, snapshot.record);
    if (this.known.size > REMEMBERED_VERSIONS) this.known.delete(this.known.keys().next().value!);
  }

  private write(record: LeaderElectionRecord, expectedVersion: string | undefined, signal: AbortSignal | undefined, what: string): Promise<LockSnapshot> {
    return this.connection.exec(this.description, what, signal, async (call) => {
      const current = expectedVersion === undefined ? null : (this.known.get(expectedVersion) ?? (await this.recordAt(expectedVersion, call)));
      // A create always starts a term; an update does when it names a new holder or a new token.
      const newToken =
        current === null ||
        record.fencingToken !== current.fencingToken ||
        (record.holderIdentity !== '' && record.holderIdentity !== current.holderIdentity);
      const outcome = await this.attempt(record, expectedVersion, newToken, call, what);
      if (outcome.kind === 'record-changed') throw recordChangedError(this.description, expectedVersion, outcome.current);
      return outcome.snapshot;
    });
  }

  /**
   * The fast path: takes the lock in one transaction when it is absent, or released and this
   * lock has seen that released version (a read or a watch event); otherwise that same
   * transaction's failure branch returns what is stored, and a released record is taken over
   * in a second one. A held record is returned untouched, whoever holds it.
   */
  acquireIfFree(record: LeaderElectionRecord, options?: LockCallOptions): Promise<AcquireIfFreeResult> {
    const checked = validateRecord(record, this.description);
    return this.connection.exec(this.description, 'acquireIfFree', options?.signal, async (call) => {
      // A released version this lock has seen is taken over directly; anything else is first
      // tried as absent — the failure branch then says what is stored, in the same round trip.
      let base = this.latest?.record.holderIdentity === '' ? this.latest : null;
      for (let round = 0; round < 3; round++) {
        const wanted = base === null ? checked : newTermOver(base.record, checked);
        const outcome = await this.attempt(wanted, base?.version, true, call, 'acquireIfFree');
        if (outcome.kind === 'written') return { acquired: true, snapshot: outcome.snapshot };
        base = outcome.current === undefined ? null : decodeSnapshot(outcome.current, this.description);
        if (base !== null) this.saw(base.version, base);
        if (base !== null && base.record.holderIdentity !== '') return { acquired: false, snapshot: base };
      }
      throw new LockConflictError(`${this.description}: the record kept changing under acquireIfFree; try again`);
    });
  }

  /**
   * One write, retried when only the fencing counter moved (by hand) or the session lease
   * expired under a new term. @returns the written snapshot, or the record as it is when it
   * was not as expected.
   */
  private async attempt(
    record: LeaderElectionRecord,
    expectedVersion: string | undefined,
    newToken: boolean,
    call: CallOptions,
    what: string,
  ): Promise<{ kind: 'written'; snapshot: LockSnapshot } | { kind: 'record-changed'; current: IKeyValue | undefined }> {
    const session = this.connection.session;
    // A holder's write goes to the session lease when one is granted; the first write of a
    // fresh factory may go without (the grant is under way) and a renewal attaches it.
    let lease = (record.holderIdentity === this.identity ? session?.currentId() : undefined) ?? '0';
    let counter = this.counter;
    let leaseRetried = false;
    for (let moved = 0; moved < COUNTER_ATTEMPTS; ) {
      const plan: WritePlan = { record, expectedVersion, newToken, counter, lease };
      let outcome;
      try {
        outcome = await writeLock(this.client, this.keys, this.description, plan, call);
      } catch (error) {
        if (session === undefined || lease === '0' || !isLeaseNotFound(error)) throw error;
        session.lost(lease, new BackendUnavailableError(`${this.description}: etcd no longer knows session lease ${lease}`, { cause: error }));
        // A new term may go ahead (on a fresh lease, once granted); a renewal of a term bound to the lost one may not.
        if (!newToken || leaseRetried) throw new BackendUnavailableError(`${this.description}: ${what}: the session lease expired`, { cause: error });
        leaseRetried = true;
        lease = session.currentId() ?? '0';
        continue;
      }
      if (outcome.kind === 'written') {
        this.counter = outcome.counter;
        this.saw(outcome.revision, outcome.snapshot);
        return { kind: 'written', snapshot: outcome.snapshot };
      }
      if (outcome.kind === 'record-changed') return outcome;
      counter = outcome.counter;
      this.counter = counter;
      moved++;
    }
    throw counterRaceError(this.description);
  }

  /** Reads the record to learn what `version` holds; a conflict when it is not current any more. */
  private async recordAt(version: string, call: CallOptions): Promise<LeaderElectionRecord> {
    const read = await readLock(this.client, this.keys, this.description, call);
    this.counter = read.counter;
    this.saw(read.revision, read.snapshot);
    if (read.snapshot === null) throw new LockNotFoundError(`${this.description} does not exist`);
    if (read.snapshot.version !== version) {
      throw new LockConflictError(`${this.description} was modified (version ${read.snapshot.version}, expected ${version})`);
    }
    return read.snapshot.record;
  }
}
