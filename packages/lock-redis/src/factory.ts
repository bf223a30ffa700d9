import type { ResourceLockFactory } from '@baton/core';
import { resolveFactoryOptions } from './options.ts';
import type { RedisClient, RedisLockFactoryOptions } from './options.ts';
import { RedisLock, SHARED_SESSION } from './redis-lock.ts';
import { RedisPrimitives } from './redis-primitives.ts';
import type { SharedSessionOption } from './redis-lock.ts';
import { RedisSession } from './session.ts';

/**
 * Makes {@link RedisLock}s that share one command connection and ONE subscriber connection,
 * however many locks (elections) the process runs.
 *
 * @example
 * const factory = new RedisLockFactory({ connection: { host: 'localhost', port: 6379 } });
 * const lock = factory.lock('my-job', defaultIdentity());
 * // ... new LeaderElector({ lock, callbacks }).run(signal)
 * await factory.close();
 */
export class RedisLockFactory implements ResourceLockFactory {
  private readonly session: RedisSession;
  /** Native semaphores and reader-writer locks (one script per try): what `DistributedLocks` uses for them. */
  readonly primitives: RedisPrimitives;

  /** @throws ConfigError naming the bad option. */
  constructor(options: RedisLockFactoryOptions) {
    this.session = new RedisSession(resolveFactoryOptions(options));
    this.primitives = new RedisPrimitives(this.session);
  }

  /** The command client (yours when you passed one in). */
  get client(): RedisClient {
    return this.session.client;
  }

  /** The key prefix of this factory's locks. */
  get keyPrefix(): string {
    return this.session.options.keyPrefix;
  }

  /** A lock on `name` for `identity`, sharing this factory's connections. */
  lock(name: string, identity: string): RedisLock {
    const options: SharedSessionOption & { name: string; identity: string } = { name, identity, [SHARED_SESSION]: this.session };
    return new RedisLock(options);
  }

  /** Stops every watch and closes the connections this factory opened (a client you passed in stays open). */
  close(): Promise<void> {
    return this.session.close();
  }

  /** @internal For tests: the shared subscriber's connection, once a lock has been watched. */
  get subscriberClient(): RedisClient | undefined {
    return this.session.sharedSubscriber?.client;
  }

  /** @internal For tests: the shared subscriber, once a lock has been watched. */
  get subscriber() {
    return this.session.sharedSubscriber;
  }
}
