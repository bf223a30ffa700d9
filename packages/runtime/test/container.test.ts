import { ConfigError, MemoryLockStore, type ResourceLock } from '@baton/core';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ContainerModule } from 'inversify';
import { ConfigValidationError, loadConfig } from '../src/config/load.ts';
import { backendNames, backendSections, createContainer, resolveBackend } from '../src/container.ts';
import { createElector, openLock, type OpenedLock } from '../src/elector.ts';
import { BACKEND_NAME, LOCK_BACKEND, type LockBackend } from '../src/registry.ts';
import { uniqueName } from './support/process.ts';

const opened: OpenedLock[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((lock) => lock.close()));
});

/** An application's own backend: a ResourceLock the application wrote, bound under a new name. */
function consulLikeModule(store: MemoryLockStore, seen: Array<Record<string, unknown>>): ContainerModule {
  const backend: LockBackend = {
    name: 'consul',
    section: 'consul',
    open(options) {
      seen.push(options);
      if (options.endpoints !== undefined && !Array.isArray(options.endpoints)) throw new ConfigError('endpoints', 'must be a list');
      return {
        lock(name: string, identity: string): ResourceLock {
          const inner = store.lock(name, identity);
          return Object.assign(Object.create(inner) as ResourceLock, { describe: () => `consul ${name}` });
        },
      };
    },
  };
  return new ContainerModule(({ bind }) => {
    bind(LOCK_BACKEND).toConstantValue(backend).whenNamed('consul');
    bind(BACKEND_NAME).toConstantValue('consul');
  });
}

describe('the container', () => {
  it('offers the built-in backends, memory bound from the start', async () => {
    const container = createContainer();
    expect(backendNames(container)).toEqual(['lease', 'endpoints', 'configmap', 'redis', 'postgres', 'etcd', 'memory']);
    expect((await resolveBackend(container, 'memory')).name).toBe('memory');
  });

  it('loads a built-in adapter module the first time its name is asked for', async () => {
    const container = createContainer();
    expect(container.isBound(LOCK_BACKEND, { name: 'redis' })).toBe(false);
    const redis = await resolveBackend(container, 'redis');
    expect(redis.name).toBe('redis');
    expect(container.isBound(LOCK_BACKEND, { name: 'redis' })).toBe(true);
    expect(await resolveBackend(container, 'redis')).toBe(redis);
  });

  it('says which backends exist when asked for another', async () => {
    const container = createContainer({ modules: [consulLikeModule(new MemoryLockStore(), [])] });
    await expect(resolveBackend(container, 'zookeeper')).rejects.toThrow(
      'backend: unknown backend "zookeeper"; valid backends: lease, endpoints, configmap, redis, postgres, etcd, memory, consul',
    );
  });

  it('lets application code bind its own lock under a new name, configured like any other', async () => {
    const store = new MemoryLockStore();
    const seen: Array<Record<string, unknown>> = [];
    const container = createContainer({ modules: [consulLikeModule(store, seen)] });
    expect(backendSections(container)).toEqual({ consul: 'consul' });
    const loaded = await loadConfig({
      env: {},
      values: { backend: 'consul', leaderElectionID: 'jobs', consul: { endpoints: ['http://a:2379'] } },
      backends: backendNames(container),
      sections: ['consul'],
      sectionOf: { consul: 'consul' },
    });
    const lock = await openLock(loaded, { container, identity: 'me' });
    opened.push(lock);
    expect(lock.lock.describe()).toBe('consul jobs');
    expect(seen).toEqual([{ endpoints: ['http://a:2379'] }]);
  });

  it('lets an application module replace a built-in backend, even one loaded with another name', async () => {
    const store = new MemoryLockStore();
    const override: LockBackend = { name: 'redis', open: () => ({ lock: (name, identity) => store.lock(name, identity) }) };
    const container = createContainer({
      modules: [new ContainerModule(({ bind }) => void bind(LOCK_BACKEND).toConstantValue(override).whenNamed('redis'))],
    });
    expect(await resolveBackend(container, 'redis')).toBe(override);

    const endpoints: LockBackend = { name: 'endpoints', open: () => ({ lock: (name, identity) => store.lock(name, identity) }) };
    const kube = createContainer({
      modules: [new ContainerModule(({ bind }) => void bind(LOCK_BACKEND).toConstantValue(endpoints).whenNamed('endpoints'))],
    });
    // Loading `configmap` loads the module that also binds `endpoints`: the application's stays.
    expect((await resolveBackend(kube, 'configmap')).name).toBe('configmap');
    expect(await resolveBackend(kube, 'endpoints')).toBe(endpoints);
  });

  it('reports a backend option it rejects with its section and where it was set', async () => {
    const container = createContainer({ modules: [consulLikeModule(new MemoryLockStore(), [])] });
    const loaded = await loadConfig({
      env: {},
      flags: { backend: 'consul', id: 'x' },
      values: { consul: { endpoints: 'not-a-list' } },
      backends: backendNames(container),
      sections: ['consul'],
    });
    const error = await openLock(loaded, { container }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as Error).message).toBe('invalid configuration:\n  configuration passed in code: consul.endpoints: must be a list');
  });

  it('maps an adapter ConfigError to the configuration (redis keyPrefix)', async () => {
    const loaded = await loadConfig({ env: { BATON_REDIS_KEY_PREFIX: 'bad{' }, flags: { backend: 'redis', id: 'x' } });
    const error = await openLock(loaded).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as Error).message).toMatch(/^invalid configuration:\n {2}environment variable BATON_REDIS_KEY_PREFIX: redis\.keyPrefix: must not contain/);
  });

  it('builds an elector from the configuration, or around a custom lock', async () => {
    const store = new MemoryLockStore();
    const container = createContainer({ memoryStore: store });
    const { config } = await loadConfig({ env: {}, values: { backend: 'memory', leaderElectionID: uniqueName('e'), identity: 'me' } });
    const built = await createElector(config, { container, callbacks: { onStartedLeading: () => {} } });
    expect(built.identity).toBe('me');
    expect(built.lock.describe()).toBe(`memory ${config.leaderElectionID}`);
    await built.close();

    const custom = store.lock('custom', 'someone');
    const around = await createElector(config, { callbacks: { onStartedLeading: () => {} }, lock: custom });
    expect(around.lock).toBe(custom);
    expect(around.identity).toBe('someone');
    await around.close();
  });

  it('reports a timing the elector rejects as a configuration problem', async () => {
    const { config } = await loadConfig({ env: {}, values: { backend: 'memory', leaderElectionID: 'x' } });
    const error = await createElector(config, { callbacks: { onStartedLeading: () => {} }, shutdownGracePeriodMs: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as Error).message).toMatch(/shutdownGracePeriod: must be a positive duration/);
  });
});
