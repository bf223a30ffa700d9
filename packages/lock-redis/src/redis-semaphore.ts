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
 * one if fewer than `permits` hold, bumping the semaphore's token counter), one renews a
 * permit, and a release is a plain ZREM. Expiry is judged by the server's clock alone. See
 * `NativePrimitives` for the rules.
 *
 * Waking: each semaphore object (one per name and process) has a wake channel of its own. A
 * refused try that will wait queues that channel in the semaphore's waiter set. A release
 * that finds waiters owes a wake-up, paid one turn of the event loop later unless this object
 * has started another try by then (that try takes the permit, or finds it taken: either way
 * nobody needed waking). The wake script then wakes as many of the longest-queued waiters as
 * permits are free, each on its own channel. So a process that releases and acquires again at
 * once costs two calls, like a polling peer, and a release costs at most one wake-up and one
 * try, never one per waiting process. The price is fairness: such a process keeps getting the
 * permit ahead of queued waiters, who try again when woken by another release or when their
 * own wait (at most a lease duration) ends; permits are not handed out in turn.
 */
export class RedisSemaphore implements NativeSemaphore {
  private readonly session: RedisSession;
  private readonly keys: PrimitiveKeys;
  private readonly permits: string;
  private readonly description: string;
  private readonly place: HoldPlace;
  /** This object's wake channel (see the class comment). */
  private readonly wakeChannel: string;
  /** Releases that found waiters, not yet answered by a try of ours or a wake script. */
  private owedWakes = 0;
  private settling = false;

  constructor(session: RedisSession, name: string, permits: number) {
    this.session = session;
    this.keys = primitiveKeys(session.options.keyPrefix, name, 'semaphore');
    this.permits = String(permits);
    this.description = `redis semaphore ${session.client.options.keyPrefix ?? ''}${this.keys.hash}`;
    this.wakeChannel = `${this.keys.hash}:wake:${randomBytes(8).toString('base64url')}`;
    this.place = {
      session,
      description: this.description,
      keys: [this.keys.holders],
      channel: this.keys.channel,
      renew: 'holderRenew',
      release: (client, identity) => this.release(client, identity),
      get: 'holderGet',
    };
  }

  tryAcquire(identity: string, leaseDurationMs: number, options?: NativeTryOptions): Promise<NativeAttempt> {
    // This try answers one owed wake-up (see the class comment).
    if (this.owedWakes > 0) this.owedWakes--;
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
            const hold = new PrimitiveHold(this.place, identity, count(detail, 'token counter', this.description), leaseDurationMs);
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
      // No channel: a wake-up that arrives during a try need not wait for its reply (core's
      // waiter notes the wake-ups it has seen before each try, so none is lost either way).
    );
  }

  /** Wake-ups for this object's waiter (its own channel). */
  watch(handlers: WatchHandlers): () => void {
    return this.session.watch(this.wakeChannel, this.description, handlers);
  }

  /**
   * Releases a permit without a script (a Lua call costs several plain commands): ZREM, then
   * (sent with it, run right after it) whether anyone waits. A waiter that queued after the
   * ZREM had tried after the permit was free, so it was refused by others, not by this permit;
   * one dequeued in between was woken by someone else.
   */
  private async release(client: RedisClient, identity: string): Promise<unknown> {
    const { holders, waiters } = this.keys;
    const [removed, waiting] = await Promise.all([client.zrem(holders, identity), client.exists(waiters)]);
    if (removed === 0) return 'gone';
    if (waiting === 1) this.oweWake();
    return 'ok';
  }

  /** Pays owed wake-ups one event-loop turn from now, unless tries of ours answered them first. */
  private oweWake(): void {
    this.owedWakes++;
    if (this.settling) return;
    this.settling = true;
    setImmediate(() => {
      this.settling = false;
      const owed = this.owedWakes;
      this.owedWakes = 0;
      if (owed === 0) return;
      const { holders, waiters } = this.keys;
      // Best effort: a wake-up lost here leaves waiters to their own next try (within a lease).
      this.session
        .exec(this.description, 'wake', undefined, (c) => runPrimitiveScript(c, 'semaphoreWake', [holders, waiters], [this.permits, String(owed), RELEASED_MESSAGE]))
        .catch((error: unknown) => this.session.options.logger.warn({ lock: this.description, error: String(error) }, 'could not wake the waiters'));
    });
  }
}
