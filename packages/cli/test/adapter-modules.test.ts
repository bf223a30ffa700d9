/**
 * Each adapter package declares the binding contract itself (structurally, without depending
 * on the CLI). This file is where the type check proves the declarations still match the
 * CLI's, and the test that each module binds its backends under their names.
 */
import { describe, expect, it } from '@jest/globals';
import { Container, type ContainerModule } from 'inversify';
import { configMapBackend, endpointsBackend, endpointsContainerModule } from '@baton/lock-endpoints';
import { leaseBackend, leaseContainerModule } from '@baton/lock-lease';
import { postgresBackend, postgresContainerModule } from '@baton/lock-postgres';
import { redisBackend, redisContainerModule } from '@baton/lock-redis';
import { BACKEND_NAME, LOCK_BACKEND, type LockBackend } from '../src/registry.ts';

// The type check: every adapter's backend is a LockBackend as the CLI defines it.
const BACKENDS: ReadonlyArray<[ContainerModule, readonly LockBackend[]]> = [
  [leaseContainerModule, [leaseBackend]],
  [endpointsContainerModule, [endpointsBackend, configMapBackend]],
  [redisContainerModule, [redisBackend]],
  [postgresContainerModule, [postgresBackend]],
];

describe.each(BACKENDS.map(([module, backends]) => [backends.map((b) => b.name).join(', '), module, backends] as const))(
  'the container module of %s',
  (_names, module, backends) => {
    it('binds each backend under its name, and lists the names', () => {
      const container = new Container();
      container.load(module);
      for (const backend of backends) {
        expect(container.get(LOCK_BACKEND, { name: backend.name })).toBe(backend);
        expect(backend.description).toEqual(expect.any(String));
      }
      expect(container.getAll(BACKEND_NAME)).toEqual(backends.map((b) => b.name));
    });
  },
);
