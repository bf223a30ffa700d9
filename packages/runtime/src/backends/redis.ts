import { ConfigError } from '@baton/core';
import { RedisLockFactory, redisConnectionFromConfig } from '@baton/lock-redis';
import type { LockBackend } from '../registry.ts';

/**
 * The `redis` backend. Options: `url` (default `redis://127.0.0.1:6379`; with `sentinel` or
 * `cluster` it only gives credentials and database), `keyPrefix`, and one of
 * `sentinel: { name, nodes: ["host:port", …], password? }` or `cluster: ["host:port", …]`.
 */
export const redisBackend: LockBackend = {
  name: 'redis',
  description: 'Redis, Sentinel or Cluster (url: redis://host:6379)',
  open(options, { logger }) {
    const { keyPrefix } = options;
    if (keyPrefix !== undefined && typeof keyPrefix !== 'string') throw new ConfigError('keyPrefix', 'must be a string');
    const factory = new RedisLockFactory({ connection: redisConnectionFromConfig(options), keyPrefix, logger });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};
