import {
  BackendUnavailableError,
  InvalidRecordError,
  LockConflictError,
  LockNotFoundError,
  validateRecord,
} from '@baton/core';
import type { AcquireIfFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';
import { changeMessage, decodeSnapshot, jsonString, newVersion } from './codec.ts';
import { lockKeys } from './keys.ts';
import type { LockKeys } from './keys.ts';
import { resolveFactoryOptions, validateLockName } from './options.ts';
import type { RedisClient, RedisLockOptions } from './options.ts';
import { runScript } from './scripts.ts';
import type { AcquireReply, ScriptReply } from './scripts.ts';
import { RedisSession } from './session.ts';

const CLOSED: Promise<void> = Promise.resolve();

/** How a factory hands its shared session to the locks it makes; not part of the public options. */
export const SHARED_SESSION = Symbol('baton.lock-redis.session');

/** @internal */
export interface SharedSessionOption {
  [SHARED_SESSION]?: RedisSession;
}

/**
 * A {@link ResourceLock} on Redis: the record is a hash at `<keyPrefix>{<name>}`, written only
 * by Lua compare-and-swap scripts that also keep the fencing counter and publish every change.
 *
 * Made standalone (`new RedisLock({ connection, name, identity })`) it opens its own
 * connections and closes them in `close()`; made by a {@link RedisLockFactory} it shares the
 * factory's.
 */
export class RedisLock implements ResourceLock {
  readonly identity: string;
  /** The lock's name (the hash tag of its keys). */
  readonly name: string;
  /** The keys and channel of this lock (before any `keyPrefix` of a client you passed in). */
  readonly keys: LockKeys;
  private readonly session: RedisSession;
  private readonly ownsSession: boolean;
  private readonly watches = new Set<() => void>();
  private readonly description: string;
  /** Every call settles within `operationTimeout` (the session's deadlines), signal or not. */
  readonly boundsOwnCalls = true;
  /** This lock's identity as a JSON string (for change messages), made on first use. */
  private identityJson: string | undefined;
  /**
   * This lock's last successful write: what is stored for as long as its version is (versions
   * are unique), so an update on top of it can be a patch (see {@link RedisLock.update}).
   */
  private lastWritten: LockSnapshot | undefined;

  /** @throws ConfigError naming the bad option. */
  constructor(options: RedisLockOptions) {
    validateLockName(options?.name, options?.identity);
    const shared = (options as SharedSessionOption)[SHARED_SESSION];
    this.session = shared ?? new RedisSession(resolveFactoryOptions(options));
    this.ownsSession = shared === undefined;
    this.name = options.name;
    this.identity = options.identity;
    this.keys = lockKeys(this.session.options.keyPrefix, options.name);
    // Keys as the server sees them: a client's own ioredis `keyPrefix` goes in front.
    this.description = `redis ${this.session.client.options.keyPrefix ?? ''}${this.keys.record}`;
  }

  /** The command client (yours when you passed one in). */
  get client(): RedisClient {
    return this.session.client;
  }

  describe(): string {
    return this.description;
  }

  /** @internal For tests: the session's calls not settled yet, and its reconnect attempts. */
  get diagnostics(): { callsInFlight: number; reconnectAttempts: number } {
    return { callsInFlight: this.session.callsInFlight, reconnectAttempts: this.session.reconnectAttempts };
  }

  get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    return this.session.exec(this.description, 'get', options?.signal, async (client) => {
      let fields: Record<string, string>;
      try {
        fields = await client.hgetall(this.keys.record);
      } catch (error) {
        if (!/\bWRONGTYPE\b/.test(String((error as Error)?.message))) throw error;
        const type = await client.type(this.keys.record).catch(() => 'value of another type');
        throw new InvalidRecordError(this.description, `the key holds a ${type}, not a hash`, { cause: error });
      }
      return decodeSnapshot(fields, this.description);
    }, this.keys.channel);
  }

  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    let checked: LeaderElectionRecord;
    try {
      checked = validateRecord(record, this.description);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.write(checked, '', 'create', options);
  }

  /**
   * A compare-and-swap on `expectedVersion`. On top of this lock's own last write, keeping its
   * fencing token and either its holder (a renewal) or no holder (a release), it is a patch
   * (`patch.lua`): the script compares the version and sets only the fields that change —
   * nothing else read, the counter untouched, the change message built here. A release
   * leaves the key's expiry as the holder's last write set it. Anything else is `write.lua`.
   */
  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    if (typeof expectedVersion !== 'string' || expectedVersion === '') {
      return Promise.reject(new LockConflictError(`${this.description}: no version to compare with (got ${JSON.stringify(expectedVersion)})`));
    }
    let checked: LeaderElectionRecord;
    try {
      checked = validateRecord(record, this.description);
    } catch (error) {
      return Promise.reject(error);
    }
    const base = this.lastWritten;
    const holder = checked.holderIdentity;
    if (base?.version === expectedVersion && checked.fencingToken === base.record.fencingToken && (holder === '' || holder === base.record.holderIdentity)) {
      return this.patch(base, checked, options);
    }
    return this.write(checked, expectedVersion, 'update', options);
  }

  /**
   * The fast path, in ONE script call (`acquire.lua`): when the lock is absent or released,
   * stores `record` as a new term — fencing token `max(requested, released token + 1, INCR
   * counter)`, leaderTransitions counted over a released record — publishes it and returns
   * it (`acquired: true`); when anyone holds it, writes nothing and returns what is stored
   * (`acquired: false`). An expired but still named holder is never overwritten here.
   * @throws InvalidRecordError for data that is not a baton record (left untouched), or a
   * `record` without a holder.
   */
  acquireIfFree(record: LeaderElectionRecord, options?: LockCallOptions): Promise<AcquireIfFreeResult> {
    let checked: LeaderElectionRecord;
    try {
      checked = validateRecord(record, this.description);
      if (checked.holderIdentity === '') throw new InvalidRecordError(this.description, 'acquireIfFree needs a record that names a holder');
    } catch (error) {
      return Promise.reject(error);
    }
    const version = newVersion();
    const { keys } = this;
    const args = this.recordArgs(checked, version);
    return this.session.exec(this.description, 'acquireIfFree', options?.signal, (client) =>
      runScript(client, 'batonLockAcquire', keys.record, keys.fence, args, (reply) => this.acquired(reply, checked, version)),
      keys.channel,
    );
  }

  /**
   * Subscribes to this lock's channel on the shared subscriber connection. `onChange` gets
   * the new snapshot of every write; deletions and expiries are not published (the elector
   * notices those by its own timing). See {@link WatchHandlers} for `onHealth`.
   */
  watch(handlers: WatchHandlers): () => void {
    const stop = this.session.watch(this.keys.channel, this.description, handlers);
    const stopOnce = (): void => {
      if (this.watches.delete(stopOnce)) stop();
    };
    this.watches.add(stopOnce);
    return stopOnce;
  }

  /** Stops this lock's watches; closes the connections only when the lock opened them itself. */
  close(): Promise<void> {
    if (this.watches.size > 0) for (const stop of [...this.watches]) stop();
    // A factory's lock is closed after every acquisition: nothing to wait for then.
    return this.ownsSession ? this.session.close() : CLOSED;
  }

  /**
   * The record as both scripts take it, after `leading` (write.lua's `expected`): the new
   * version, its fields, the key expiry, the channel.
   */
  private recordArgs(checked: LeaderElectionRecord, version: string, ...leading: string[]): string[] {
    const lease = this.session.leaseArgs(checked.leaseDurationMs);
    const acquireTime = String(checked.acquireTime);
    return [
      ...leading,
      version,
      checked.holderIdentity,
      lease.duration,
      acquireTime,
      checked.renewTime === checked.acquireTime ? acquireTime : String(checked.renewTime),
      String(checked.leaderTransitions),
      String(checked.fencingToken),
      lease.expiry,
      this.keys.channel,
      this.holderJson(checked.holderIdentity),
    ];
  }

  /** One call of `patch.lua`: `checked` over `base` (same token; same holder, or none). */
  private patch(base: LockSnapshot, checked: LeaderElectionRecord, options: LockCallOptions | undefined): Promise<LockSnapshot> {
    const was = base.record;
    const version = newVersion();
    const lease = this.session.leaseArgs(checked.leaseDurationMs);
    const releasing = checked.holderIdentity === '';
    const args = [base.version, releasing ? '' : lease.expiry, this.keys.channel, changeMessage(checked, version, this.holderJson(checked.holderIdentity)), 'version', version];
    if (checked.holderIdentity !== was.holderIdentity) args.push('holderIdentity', checked.holderIdentity);
    if (checked.leaseDurationMs !== was.leaseDurationMs) args.push('leaseDurationMs', lease.duration);
    if (checked.acquireTime !== was.acquireTime) args.push('acquireTime', String(checked.acquireTime));
    if (checked.renewTime !== was.renewTime) args.push('renewTime', String(checked.renewTime));
    if (checked.leaderTransitions !== was.leaderTransitions) args.push('leaderTransitions', String(checked.leaderTransitions));
    const { keys } = this;
    return this.session.exec(this.description, 'update', options?.signal, (client) =>
      runScript(client, 'batonLockPatch', keys.record, keys.fence, args, (reply) => this.written(reply, checked, version, base.version)),
      keys.channel,
    );
  }

  /** `holder` as a JSON string for a change message (this lock's own identity made once). */
  private holderJson(holder: string): string {
    return holder === this.identity ? (this.identityJson ??= jsonString(this.identity)) : jsonString(holder);
  }

  /** One call of `write.lua` with a validated record: a create (`expected` empty) or a compare-and-swap on `expected`. */
  private write(checked: LeaderElectionRecord, expected: string, what: string, options: LockCallOptions | undefined): Promise<LockSnapshot> {
    const version = newVersion();
    const { keys } = this;
    const args = this.recordArgs(checked, version, expected);
    return this.session.exec(this.description, what, options?.signal, (client) =>
      runScript(client, 'batonLockWrite', keys.record, keys.fence, args, (reply) =>
        this.written(reply, checked, version, expected === '' ? undefined : expected),
      ),
      keys.channel,
    );
  }

  private written(reply: unknown, record: LeaderElectionRecord, version: string, expected: string | undefined): LockSnapshot {
    const [status, detail] = (Array.isArray(reply) ? reply : []) as ScriptReply;
    switch (status) {
      case 'ok': {
        // patch.lua keeps the token (no detail); write.lua says what it stored.
        const stored = detail === undefined ? record : { ...record, fencingToken: this.storedCount(detail, 'fencing counter') };
        return (this.lastWritten = { record: stored, version });
      }
      case 'conflict':
        throw new LockConflictError(
          expected === undefined
            ? `${this.description} already exists`
            : `${this.description} was modified (version ${String(detail)}, expected ${expected})`,
        );
      case 'notfound':
        throw new LockNotFoundError(`${this.description} does not exist`);
      case 'invalid':
        throw new InvalidRecordError(this.description, String(detail));
      default:
        throw new BackendUnavailableError(`${this.description}: unexpected reply from Redis: ${JSON.stringify(reply)}`);
    }
  }

  private acquired(reply: unknown, record: LeaderElectionRecord, version: string): AcquireIfFreeResult {
    const r = (Array.isArray(reply) ? reply : []) as AcquireReply;
    switch (r[0]) {
      case 'acquired': {
        const fencingToken = this.storedCount(r[1], 'fencing counter');
        const leaderTransitions = this.storedCount(r[2], 'leaderTransitions');
        const snapshot = { record: { ...record, fencingToken, leaderTransitions }, version };
        this.lastWritten = snapshot;
        return { acquired: true, snapshot };
      }
      case 'held': {
        const field = (value: string | null): string | undefined => value ?? undefined;
        const snapshot = decodeSnapshot(
          {
            version: field(r[1]),
            holderIdentity: field(r[2]),
            leaseDurationMs: field(r[3]),
            acquireTime: field(r[4]),
            renewTime: field(r[5]),
            leaderTransitions: field(r[6]),
            fencingToken: field(r[7]),
          },
          this.description,
        );
        if (snapshot === null) throw new InvalidRecordError(this.description, 'the held record came back empty');
        return { acquired: false, snapshot };
      }
      case 'invalid':
        throw new InvalidRecordError(this.description, String(r[1]));
      default:
        throw new BackendUnavailableError(`${this.description}: unexpected reply from Redis: ${JSON.stringify(reply)}`);
    }
  }

  /** A count the script stored (a token, a transition count), as a safe integer. */
  private storedCount(value: unknown, what: string): number {
    const count = Number(value);
    if (!Number.isSafeInteger(count)) throw new InvalidRecordError(this.description, `the ${what} is out of range: ${String(value)}`);
    return count;
  }
}
