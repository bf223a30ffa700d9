import { ConfigError } from '@baton/core';
import { RedisLockFactory, redisConnectionFromConfig } from '@baton/lock-redis';
import { readTlsFiles } from '../config/pem.ts';
import type { LockBackend } from '../registry.ts';

/**
 * The `redis` backend. Options: `url` (default `redis://127.0.0.1:6379`, `rediss://` for TLS;
 * with `sentinel` or `cluster` it only gives credentials and database), `keyPrefix`, one of
 * `sentinel: { name, nodes: ["host:port", …], password? }` or `cluster: ["host:port", …]`, and
 * `tls: { ca, cert, key, serverName, insecureSkipVerify }` (PEM files relative to the
 * configuration file; the block turns TLS on; verification is on unless skipped, which is logged).
 */
export const redisBackend: LockBackend = {
  name: 'redis',
  description: 'Redis, Sentinel or Cluster (url: redis://host:6379, rediss:// for TLS)',
  open(options, { logger, baseDir }) {
    const { keyPrefix, tls } = options;
    if (keyPrefix !== undefined && typeof keyPrefix !== 'string') throw new ConfigError('keyPrefix', 'must be a string');
    let tlsConfig: Record<string, unknown> | undefined;
    if (tls !== undefined) {
      const { serverName, insecureSkipVerify } = tls as Record<string, unknown>;
      tlsConfig = { ...readTlsFiles(tls, baseDir), serverName, insecureSkipVerify };
      if (insecureSkipVerify === true) {
        logger.warn({ backend: 'redis' }, 'TLS certificate verification is OFF (redis.tls.insecureSkipVerify): the connection is encrypted, but anyone on the path can pretend to be the server');
      }
    }
    const connection = redisConnectionFromConfig({ ...options, tls: tlsConfig });
    const factory = new RedisLockFactory({ connection, keyPrefix, logger });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};
