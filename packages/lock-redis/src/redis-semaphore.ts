import { BackendUnavailableError, ConfigError, InvalidRecordError } from '@baton/core';
import type { NativeAttempt, NativeSemaphore, NativeTryOptions, WatchHandlers } from '@baton/core';
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './options.ts';
import { PrimitiveHold, RELEASED_MESSAGE } from './primitive-hold.ts';
import type { HoldPlace } from './primitive-hold.ts';
import { runPrimitiveScript } from './primitive-scripts.ts';
import type { RedisSession } from './session.ts';

/** The keys of one native primitive: its hash (counter, shape), its holder set, its waiter set, its channel. */
export interface PrimitiveKeys {
  readonly hash: string;
  readonly holders: string;
  readonly waiters: string;
  readonly channel: string;
}

/**
 * `<keyPrefix>{<name>}:<kind>` and what hangs off it: the name is the hash tag (one slot on
 * Cluster), and the suffix keeps it apart from the mutex of the same name (`<keyPrefix>{<name>}`).
 */
export function primitiveKeys(keyPrefix: string, name: string, kind: 'semaphore' | 'rw'): PrimitiveKeys {
  const hash = `${keyPrefix}{${name}}:${kind}`;
  return { hash, holders: `${hash}:holders`, waiters: `${hash}:waiters`, channel: `${hash}:changes` };
}

/** A count the server sent, as a number. */
export function count(value: unknown, what: string, lock: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isSafeInteger(n)) throw new InvalidRecordError(lock, `the ${what} is out of range: ${String(value)}`);
  return n;
}

/**
 * A counting semaphore in Redis: one script takes a permit (dropping expired holders, taking
 * one if fewer than `permits` hold, bumping the semaphore's token counter), one renews and one
 * releases a permit. Expiry is judged by the server's clock alone. See `NativePrimitives` for
 * the rules.
 *
 * Waking: each semaphore object (one per name and process) has a wake channel of its own. A
 * refused try that will wait queues that channel in the semaphore's waiter set; a release
 * publishes to the longest-queued one only, so a release costs one wake-up and one try, not
 * one per waiting process (which would all but one be refused).
 */
export class RedisSemaphore implements NativeSemaphore {
  private readonly session: RedisSession;
  private readonly keys: PrimitiveKeys;
  private readonly permits: string;
  private readonly description: string;
  private readonly place: HoldPlace;
  /** For a permit granted while nobody waited: released without a script (see {@link RedisSemaphore.releaseQuietly}). */
  private readonly uncontended: HoldPlace;
  /** This object's wake channel (see the class comment). */
  private readonly wakeChannel: string;

  constructor(session: RedisSession, name: string, permits: number) {
    this.session = session;
    this.keys = primitiveKeys(session.options.keyPrefix, name, 'semaphore');
    this.permits = String(permits);
    this.description = `redis semaphore ${session.client.options.keyPrefix ?? ''}${this.keys.hash}`;
    this.wakeChannel = `${this.keys.hash}:wake:${randomBytes(8).toString('base64url')}`;
    this.place = {
      session,
      description: this.description,
      keys: [this.keys.holders, this.keys.waiters],
      channel: this.keys.channel,
      renew: 'holderRenew',
      release: 'semaphoreRelease',
      get: 'holderGet',
    };
    this.uncontended = { ...this.place, release: (client, identity) => this.releaseQuietly(client, identity) };
  }

  tryAcquire(identity: string, leaseDurationMs: number, options?: NativeTryOptions): Promise<NativeAttempt> {
    const backstop = String(Math.ceil(leaseDurationMs * this.session.options.expiryFactor));
    const { hash, holders, waiters } = this.keys;
    const wake = options?.wait ? this.wakeChannel : '';
    // Queued for twice a lease: longer than a waiter sleeps between tries.
    const args = [identity, String(leaseDurationMs), this.permits, backstop, wake, String(2 * leaseDurationMs)];
    return this.session.exec(
      this.description,
      'acquire',
      options?.signal,
      async (client) => {
        const reply = await runPrimitiveScript(client, 'semaphoreAcquire', [hash, holders, waiters], args);
        const [status, detail] = (Array.isArray(reply) ? reply : []) as [string, unknown];
        switch (status) {
          case 'ok': {
            const place = (reply as unknown[])[2] === '1' ? this.place : this.uncontended;
            const hold = new PrimitiveHold(place, identity, count(detail, 'token counter', this.description), leaseDurationMs);
            return { granted: true, hold, snapshot: hold.snapshot };
          }
          case 'full':
            return { granted: false, retryInMs: count(detail, 'expiry', this.description) };
          case 'shape':
            throw new ConfigError('permits', `semaphore ${this.description} is in use with permits = ${String(detail)}, this process asks for ${this.permits}; every process must agree`);
          default:
            throw new BackendUnavailableError(`${this.description}: unexpected reply from Redis: ${JSON.stringify(reply)}`);
        }
      },
      this.wakeChannel,
    );
  }

  /**
   * Releases a permit granted while nobody waited, without a script (a Lua call costs several
   * plain commands): ZREM, and in the same transaction whether anyone waits now. Only then is
   * one woken (a second call). A waiter that queued after the ZREM had tried after the permit
   * was free, so it was refused by others, not by this permit.
   */
  private async releaseQuietly(client: RedisClient, identity: string): Promise<unknown> {
    const { holders, waiters } = this.keys;
    const replies = await client.multi().zrem(holders, identity).exists(waiters).exec();
    const [[removeError, removed] = [], [existsError, waiting] = []] = replies ?? [];
    if (removeError || existsError) throw removeError ?? existsError;
    if (removed === 0) return 'gone';
    if (waiting === 1) return runPrimitiveScript(client, 'semaphoreWake', [waiters], [RELEASED_MESSAGE]);
    return 'ok';
  }

  /** Wake-ups for this object's waiter (its own channel). */
  watch(handlers: WatchHandlers): () => void {
    return this.session.watch(this.wakeChannel, this.description, handlers);
  }
}
