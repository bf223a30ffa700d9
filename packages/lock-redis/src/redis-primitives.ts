import type { NativePrimitives, NativeReadWrite, NativeSemaphore } from '@baton/core';
import { validateLockName } from './options.ts';
import { RedisReadWrite } from './redis-read-write.ts';
import { RedisSemaphore } from './redis-semaphore.ts';
import type { RedisSession } from './session.ts';

/**
 * The native semaphores and reader-writer locks a {@link RedisLockFactory} offers core
 * (`ResourceLockFactory.primitives`), on the factory's command and subscriber connections.
 */
export class RedisPrimitives implements NativePrimitives {
  private readonly session: RedisSession;

  constructor(session: RedisSession) {
    this.session = session;
  }

  /** @throws ConfigError for a name that cannot be a hash tag. */
  semaphore(name: string, permits: number): NativeSemaphore {
    validateLockName(name, 'semaphore');
    return new RedisSemaphore(this.session, name, permits);
  }

  /** @throws ConfigError for a name that cannot be a hash tag. */
  readWrite(name: string, maxReaders: number): NativeReadWrite {
    validateLockName(name, 'read-write');
    return new RedisReadWrite(this.session, name, maxReaders);
  }
}
