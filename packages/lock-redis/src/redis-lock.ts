import {
  BackendUnavailableError,
  InvalidRecordError,
  LockConflictError,
  LockNotFoundError,
  validateRecord,
} from '@baton/core';
import type { LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';
import { decodeSnapshot, newVersion, recordArgs } from './codec.ts';
import { lockKeys } from './keys.ts';
import type { LockKeys } from './keys.ts';
import { resolveFactoryOptions, validateLockName } from './options.ts';
import type { RedisClient, RedisLockOptions } from './options.ts';
import { runScript } from './scripts.ts';
import type { ScriptReply } from './scripts.ts';
import { RedisSession } from './session.ts';

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
  private readonly expiryFactor: number;
  private readonly watches = new Set<() => void>();
  private readonly description: string;

  /** @throws ConfigError naming the bad option. */
  constructor(options: RedisLockOptions) {
    validateLockName(options?.name, options?.identity);
    const shared = (options as SharedSessionOption)[SHARED_SESSION];
    this.session = shared ?? new RedisSession(resolveFactoryOptions(options));
    this.ownsSession = shared === undefined;
    this.name = options.name;
    this.identity = options.identity;
    this.keys = lockKeys(this.session.options.keyPrefix, options.name);
    this.expiryFactor = this.session.options.expiryFactor;
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
    });
  }

  async create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    const checked = validateRecord(record, this.description);
    const version = newVersion();
    return this.session.exec(this.description, 'create', options?.signal, async (client) => {
      const reply = await runScript(client, 'batonLockWrite', [this.keys.record, this.keys.fence], [
        '', // no expected version: create, only if absent
        version,
        ...recordArgs(checked),
        this.expiryMs(checked),
        this.keys.channel,
      ]);
      return this.written(reply, checked, version, undefined);
    });
  }

  async update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    const checked = validateRecord(record, this.description);
    if (typeof expectedVersion !== 'string' || expectedVersion === '') {
      throw new LockConflictError(`${this.description}: no version to compare with (got ${JSON.stringify(expectedVersion)})`);
    }
    const version = newVersion();
    return this.session.exec(this.description, 'update', options?.signal, async (client) => {
      const reply = await runScript(client, 'batonLockWrite', [this.keys.record, this.keys.fence], [
        expectedVersion,
        version,
        ...recordArgs(checked),
        this.expiryMs(checked),
        this.keys.channel,
      ]);
      return this.written(reply, checked, version, expectedVersion);
    });
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
  async close(): Promise<void> {
    for (const stop of [...this.watches]) stop();
    if (this.ownsSession) await this.session.close();
  }

  /** The key's expiry: `expiryFactor` lease durations after this write. */
  private expiryMs(record: LeaderElectionRecord): string {
    return String(Math.min(Math.ceil(record.leaseDurationMs * this.expiryFactor), Number.MAX_SAFE_INTEGER));
  }

  private written(reply: unknown, record: LeaderElectionRecord, version: string, expected: string | undefined): LockSnapshot {
    const [status, detail] = (Array.isArray(reply) ? reply : []) as ScriptReply;
    switch (status) {
      case 'ok': {
        const fencingToken = Number(detail);
        if (!Number.isSafeInteger(fencingToken)) {
          throw new InvalidRecordError(this.description, `the fencing counter is out of range: ${String(detail)}`);
        }
        return { record: { ...record, fencingToken }, version };
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
}
