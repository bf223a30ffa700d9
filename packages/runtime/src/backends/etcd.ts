import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@baton/core';
import { EtcdLockFactory, type EtcdConnectionOptions } from '@baton/lock-etcd';
import type { LockBackend } from '../registry.ts';

/** Reads a PEM file named in the `etcd.tls` section, relative to the configuration file. */
function readPem(field: string, path: unknown, baseDir: string): Buffer | undefined {
  if (path === undefined) return undefined;
  if (typeof path !== 'string') throw new ConfigError(`tls.${field}`, 'must be a file path');
  try {
    return readFileSync(resolve(baseDir, path));
  } catch (error) {
    throw new ConfigError(`tls.${field}`, `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

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
    let connection: EtcdConnectionOptions = url;
    if (tls !== undefined) {
      if (typeof tls !== 'object' || tls === null) throw new ConfigError('tls', 'must be an object: { ca, cert, key }');
      const files = tls as Record<string, unknown>;
      connection = {
        hosts: url,
        tls: { ca: readPem('ca', files.ca, baseDir), cert: readPem('cert', files.cert, baseDir), key: readPem('key', files.key, baseDir) },
      };
    }
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
