import { BackendUnavailableError, LockConflictError, LockNotFoundError } from '@baton/core';
import type { LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock } from '@baton/core';
import type { RedisClient } from './options.ts';
import type { PrimitiveScript } from './primitive-scripts.ts';
import { runPrimitiveScript } from './primitive-scripts.ts';
import type { RedisSession } from './session.ts';

/** A change message every watcher decodes as a record (its fields say nothing: watchers only wake and look again). */
export const RELEASED_MESSAGE = JSON.stringify({
  holderIdentity: '',
  leaseDurationMs: '1',
  acquireTime: '0',
  renewTime: '0',
  leaderTransitions: '0',
  fencingToken: '0',
  version: 'released',
});

/** Where a unit lives and the scripts that renew, release and read it. */
export interface HoldPlace {
  readonly session: RedisSession;
  /** `describe()` of the primitive. */
  readonly description: string;
  readonly keys: readonly string[];
  readonly channel: string;
  readonly renew: PrimitiveScript;
  /** A script taking (identity, channel, message), or a function of its own; either answers 'ok' or 'gone'. */
  readonly release: PrimitiveScript | ((client: RedisClient, identity: string) => Promise<unknown>);
  readonly get: PrimitiveScript;
}

/**
 * One unit of a native primitive (a permit, a read, a writer's place) as a {@link ResourceLock}
 * of its own, so core renews and releases it like any held record (the rules are
 * `NativePrimitives`'): `update` naming the holder renews, with an empty holder releases.
 */
export class PrimitiveHold implements ResourceLock {
  readonly identity: string;
  private readonly place: HoldPlace;
  private readonly token: number;
  private record: LeaderElectionRecord;
  private readonly version: string;

  constructor(place: HoldPlace, identity: string, token: number, leaseDurationMs: number) {
    this.place = place;
    this.identity = identity;
    this.token = token;
    const now = place.session.options.clock.wallNow();
    this.record = { holderIdentity: identity, leaseDurationMs, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: token };
    this.version = String(token);
  }

  /** The unit as granted. */
  get snapshot(): LockSnapshot {
    return { record: this.record, version: this.version };
  }

  describe(): string {
    return `${this.place.description} held by "${this.identity}"`;
  }

  get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    const { session, keys, get } = this.place;
    return session.exec(this.describe(), 'get', options?.signal, async (client) => {
      const left = await runPrimitiveScript(client, get, keys, [this.identity]);
      return left === null || left === undefined ? null : this.snapshot;
    });
  }

  create(): Promise<LockSnapshot> {
    return Promise.reject(new LockConflictError(`${this.describe()}: a unit of a primitive is never created, only granted`));
  }

  update(record: LeaderElectionRecord, _expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    const { session, keys, channel, renew, release } = this.place;
    if (record.holderIdentity === '') {
      return session.exec(this.describe(), 'release', options?.signal, async (client) => {
        this.expect(
          typeof release === 'function'
            ? await release(client, this.identity)
            : await runPrimitiveScript(client, release, keys, [this.identity, channel, RELEASED_MESSAGE]),
        );
        return { record: { ...record, fencingToken: this.token }, version: this.version };
      });
    }
    if (record.holderIdentity !== this.identity) {
      return Promise.reject(new LockConflictError(`${this.describe()}: only its holder renews it`));
    }
    const lease = String(record.leaseDurationMs);
    const backstop = String(Math.ceil(record.leaseDurationMs * session.options.expiryFactor));
    return session.exec(this.describe(), 'renew', options?.signal, async (client) => {
      this.expect(await runPrimitiveScript(client, renew, keys, [this.identity, lease, backstop]));
      this.record = { ...record, fencingToken: this.token };
      return this.snapshot;
    });
  }

  /** Nothing to close: the session is the factory's, and the unit is released by `update`. */
  async close(): Promise<void> {}

  private expect(reply: unknown): void {
    if (reply === 'ok') return;
    if (reply === 'gone') throw new LockNotFoundError(`${this.describe()}: no longer held`);
    throw new BackendUnavailableError(`${this.describe()}: unexpected reply from Redis: ${JSON.stringify(reply)}`);
  }
}
