import { ConfigError } from '@baton/core';
import { EtcdLockFactory, type EtcdConnectionOptions } from '@baton/lock-etcd';
import { readTlsFiles } from '../config/pem.ts';
import type { LockBackend } from '../registry.ts';

/**
 * The `etcd` backend. Options: `url` (client URLs, comma-separated; `user:password@` for
 * authentication, `https://` for TLS; default `http://127.0.0.1:2379`), `tls: { ca, cert, key }`
 * (PEM files, relative to the configuration file), `keyPrefix`, `fencePrefix`, `session`
 * (`true` or `{ ttl }`: bind the holder's record to an etcd lease) and `operationTimeout`.
 */
export const etcdBackend: LockBackend = {
  name: 'etcd',
  description: 'etcd v3 (url: http://host:2379, comma-separated members)',
  open(options, { logger, baseDir }) {
    const { url = 'http://127.0.0.1:2379', tls, keyPrefix, fencePrefix, session, operationTimeout } = options;
    if (typeof url !== 'string') throw new ConfigError('url', 'must be one or more comma-separated http:// or https:// URLs');
    const files = readTlsFiles(tls, baseDir);
    const connection: EtcdConnectionOptions = files === undefined ? url : { hosts: url, tls: files };
    const factory = new EtcdLockFactory({
      connection,
      keyPrefix: keyPrefix as string | undefined,
      fencePrefix: fencePrefix as string | undefined,
      session: session as boolean | { ttl?: string | number } | undefined,
      operationTimeout: operationTimeout as string | number | undefined,
      logger,
    });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};
