import { ConfigError, type Logger, type ResourceLock } from '@baton/core';
import { ContainerModule } from 'inversify';
import { RedisLockFactory } from './factory.ts';

// The binding contract of `@baton/cli` (its registry.ts), declared here structurally so this
// package does not depend on the CLI: two `Symbol.for` keys and the shape of a backend. The
// CLI's type check verifies that this declaration still matches its own.
const LOCK_BACKEND = Symbol.for('baton.LockBackend');
const BACKEND_NAME = Symbol.for('baton.BackendName');

/** What `@baton/cli` resolves under `Symbol.for('baton.LockBackend')`, named after the backend. */
export interface RedisLockBackend {
  readonly name: string;
  readonly section?: string;
  readonly description?: string;
  open(options: Record<string, unknown>, context: { readonly logger: Logger }): {
    lock(name: string, identity: string): ResourceLock;
    close(): Promise<void>;
  };
}

/** The `redis` backend: options `url` (default `redis://127.0.0.1:6379`) and `keyPrefix`. */
export const redisBackend: RedisLockBackend = {
  name: 'redis',
  description: 'Redis, Sentinel or Cluster (url: redis://host:6379)',
  open(options, { logger }) {
    const { url = 'redis://127.0.0.1:6379', keyPrefix } = options;
    if (typeof url !== 'string') throw new ConfigError('url', 'must be a redis:// URL');
    if (keyPrefix !== undefined && typeof keyPrefix !== 'string') throw new ConfigError('keyPrefix', 'must be a string');
    const factory = new RedisLockFactory({ connection: url, keyPrefix, logger });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};

/**
 * For `@baton/cli`'s inversify container: binds {@link redisBackend} under the name `redis`,
 * so `backend: redis` in baton's configuration selects it.
 */
export const redisContainerModule = new ContainerModule(({ bind }) => {
  bind(LOCK_BACKEND).toConstantValue(redisBackend).whenNamed(redisBackend.name);
  bind(BACKEND_NAME).toConstantValue(redisBackend.name);
});
