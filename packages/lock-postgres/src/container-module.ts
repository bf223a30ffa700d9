import { ConfigError, type LeaseTimings, type Logger, type ResourceLock } from '@baton/core';
import { ContainerModule } from 'inversify';
import { PostgresLockFactory } from './factory.ts';

// The binding contract of `@baton/cli` (its registry.ts), declared here structurally so this
// package does not depend on the CLI: two `Symbol.for` keys and the shape of a backend. The
// CLI's type check verifies that this declaration still matches its own.
const LOCK_BACKEND = Symbol.for('baton.LockBackend');
const BACKEND_NAME = Symbol.for('baton.BackendName');

/** What `@baton/cli` resolves under `Symbol.for('baton.LockBackend')`, named after the backend. */
export interface PostgresLockBackend {
  readonly name: string;
  readonly section?: string;
  readonly description?: string;
  open(
    options: Record<string, unknown>,
    context: { readonly logger: Logger; readonly timings: LeaseTimings },
  ): { lock(name: string, identity: string): ResourceLock; close(): Promise<void> };
}

/**
 * The `postgres` backend. Options: `url` (default: libpq's `PG*` environment variables),
 * `table`, `schema`, `sessionTimeout` (default: leaseDuration − retryPeriod, and at least
 * renewDeadline — the window the README's timing argument asks for).
 */
export const postgresBackend: PostgresLockBackend = {
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

/**
 * For `@baton/cli`'s inversify container: binds {@link postgresBackend} under the name
 * `postgres`, so `backend: postgres` in baton's configuration selects it.
 */
export const postgresContainerModule = new ContainerModule(({ bind }) => {
  bind(LOCK_BACKEND).toConstantValue(postgresBackend).whenNamed(postgresBackend.name);
  bind(BACKEND_NAME).toConstantValue(postgresBackend.name);
});
