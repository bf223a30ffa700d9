import { BackendUnavailableError, ConfigError, InvalidRecordError } from '@baton/core';
import type { LockCallOptions, NativeAttempt, NativeSemaphore, WatchHandlers } from '@baton/core';
import { PrimitiveHold } from './primitive-hold.ts';
import type { HoldPlace } from './primitive-hold.ts';
import { runPrimitiveScript } from './primitive-scripts.ts';
import type { RedisSession } from './session.ts';

/** The keys of one native primitive: its hash (counter, shape), its holder set, its channel. */
export interface PrimitiveKeys {
  readonly hash: string;
  readonly holders: string;
  readonly channel: string;
}

/**
 * `<keyPrefix>{<name>}:<kind>` and what hangs off it: the name is the hash tag (one slot on
 * Cluster), and the suffix keeps it apart from the mutex of the same name (`<keyPrefix>{<name>}`).
 */
export function primitiveKeys(keyPrefix: string, name: string, kind: 'semaphore' | 'rw'): PrimitiveKeys {
  const hash = `${keyPrefix}{${name}}:${kind}`;
  return { hash, holders: `${hash}:holders`, channel: `${hash}:changes` };
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
 * releases a permit; a release publishes on the semaphore's channel, which wakes waiters.
 * Expiry is judged by the server's clock alone. See `NativePrimitives` for the rules.
 */
export class RedisSemaphore implements NativeSemaphore {
  private readonly session: RedisSession;
  private readonly keys: PrimitiveKeys;
  private readonly permits: string;
  private readonly description: string;
  private readonly place: HoldPlace;

  constructor(session: RedisSession, name: string, permits: number) {
    this.session = session;
    this.keys = primitiveKeys(session.options.keyPrefix, name, 'semaphore');
    this.permits = String(permits);
    this.description = `redis semaphore ${session.client.options.keyPrefix ?? ''}${this.keys.hash}`;
    this.place = {
      session,
      description: this.description,
      keys: [this.keys.holders],
      channel: this.keys.channel,
      renew: 'holderRenew',
      release: 'holderRelease',
      get: 'holderGet',
    };
  }

  tryAcquire(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeAttempt> {
    const backstop = String(Math.ceil(leaseDurationMs * this.session.options.expiryFactor));
    const { hash, holders, channel } = this.keys;
    return this.session.exec(
      this.description,
      'acquire',
      options?.signal,
      async (client) => {
        const reply = await runPrimitiveScript(client, 'semaphoreAcquire', [hash, holders], [identity, String(leaseDurationMs), this.permits, backstop]);
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
      channel,
    );
  }

  watch(handlers: WatchHandlers): () => void {
    return this.session.watch(this.keys.channel, this.description, handlers);
  }
}
