import { ConfigError } from '@baton/core';
import { EtcdLockFactory } from '@baton/lock-etcd';
import type { LockBackend } from '../registry.ts';

/**
 * The `etcd` backend. Options: `url` (the members' client URLs, comma-separated; credentials
 * may be given in them; `https://` turns TLS on; default `http://127.0.0.1:2379`),
 * `keyPrefix`, and `session` (bind the holder's record to an etcd lease, so a crashed
 * holder's lock is freed after the lease's TTL).
 */
export const etcdBackend: LockBackend = {
  name: 'etcd',
  description: 'etcd v3 (url: http://host:2379[,http://host2:2379])',
  open(options, { logger }) {
    const { url = 'http://127.0.0.1:2379', keyPrefix, session } = options;
    if (typeof url !== 'string') throw new ConfigError('url', 'must list http:// or https:// client URLs');
    if (keyPrefix !== undefined && typeof keyPrefix !== 'string') throw new ConfigError('keyPrefix', 'must be a string');
    if (session !== undefined && typeof session !== 'boolean') throw new ConfigError('session', 'must be true or false');
    const factory = new EtcdLockFactory({ connection: url, keyPrefix, session, logger });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};
