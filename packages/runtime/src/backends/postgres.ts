import { ConfigError } from '@baton/core';
import { PostgresLockFactory } from '@baton/lock-postgres';
import type { LockBackend } from '../registry.ts';

/**
 * The `postgres` backend. Options: `url` (default: libpq's `PG*` environment variables),
 * `table`, `schema`, `sessionTimeout` (default: leaseDuration − retryPeriod, and at least
 * renewDeadline — the window the README's timing argument asks for).
 */
export const postgresBackend: LockBackend = {
  name: 'postgres',
  description: 'PostgreSQL advisory locks (url: postgres://user@host:5432/db)',
  open(options, { logger, timings }) {
    const { url, table, schema, sessionTimeout } = options;
    if (url !== undefined && typeof url !== 'string') throw new ConfigError('url', 'must be a postgres:// URL');
    for (const [field, value] of Object.entries({ table, schema })) {
      if (value !== undefined && typeof value !== 'string') throw new ConfigError(field, 'must be a string');
    }
    if (sessionTimeout !== undefined && typeof sessionTimeout !== 'number' && typeof sessionTimeout !== 'string') {
      throw new ConfigError('sessionTimeout', 'must be a duration');
    }
    const fitted = Math.max(timings.renewDeadlineMs, timings.leaseDurationMs - timings.retryPeriodMs);
    const factory = new PostgresLockFactory({
      ...(url === undefined ? { poolConfig: {} } : { connectionString: url }),
      table: table as string | undefined,
      schema: schema as string | undefined,
      sessionTimeout: (sessionTimeout as number | string | undefined) ?? fitted,
      logger,
    });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};

