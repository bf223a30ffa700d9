import { ConfigError } from '@baton/core';
import { PostgresLockFactory, postgresSsl, type SslMode } from '@baton/lock-postgres';
import { readTlsFiles } from '../config/pem.ts';
import type { LockBackend } from '../registry.ts';

/** The connection string's own TLS parameters (libpq's names). */
const URL_TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];

/**
 * The `postgres` backend. Options: `url` (default: libpq's `PG*` environment variables),
 * `table`, `schema`, `sessionTimeout` (default: leaseDuration − retryPeriod, and at least
 * renewDeadline — the window the README's timing argument asks for), `sslmode` (libpq's
 * meaning; default `verify-full` with a `tls` block, else none) and `tls: { ca, cert, key }`
 * (PEM files relative to the configuration file) — or the same as `?sslmode=…&sslrootcert=…`
 * in the URL, but not both.
 */
export const postgresBackend: LockBackend = {
  name: 'postgres',
  description: 'PostgreSQL advisory locks (url: postgres://user@host:5432/db)',
  open(options, { logger, timings, baseDir }) {
    const { url, table, schema, sessionTimeout, sslmode, tls } = options;
    if (url !== undefined && typeof url !== 'string') throw new ConfigError('url', 'must be a postgres:// URL');
    for (const [field, value] of Object.entries({ table, schema })) {
      if (value !== undefined && typeof value !== 'string') throw new ConfigError(field, 'must be a string');
    }
    if (sessionTimeout !== undefined && typeof sessionTimeout !== 'number' && typeof sessionTimeout !== 'string') {
      throw new ConfigError('sessionTimeout', 'must be a duration');
    }
    let ssl: ReturnType<typeof postgresSsl> | undefined;
    if (sslmode !== undefined || tls !== undefined) {
      const inUrl = url === undefined ? [] : URL_TLS_PARAMETERS.filter((name) => new URL(url).searchParams.has(name));
      if (inUrl.length > 0) {
        throw new ConfigError(sslmode !== undefined ? 'sslmode' : 'tls', `the URL sets ${inUrl.join(', ')} already: give TLS settings either in the URL or as postgres.sslmode and postgres.tls, not both`);
      }
      ssl = postgresSsl({ sslmode: sslmode as SslMode | undefined, ...readTlsFiles(tls, baseDir) });
    }
    const fitted = Math.max(timings.renewDeadlineMs, timings.leaseDurationMs - timings.retryPeriodMs);
    const factory = new PostgresLockFactory({
      poolConfig: { ...(url !== undefined && { connectionString: url }), ...(ssl !== undefined && { ssl }) },
      table: table as string | undefined,
      schema: schema as string | undefined,
      sessionTimeout: (sessionTimeout as number | string | undefined) ?? fitted,
      logger,
    });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};
