import { ConfigError } from '@baton/core';
import type { ContainerModule } from 'inversify';
import type { LockBackend } from '../registry.ts';
import { bindBackends } from './bind.ts';

/** What a built-in backend needs installed besides `@baton/runtime`, for the error when it is missing. */
const PACKAGES: Readonly<Record<string, string>> = {
  lease: '@baton/lock-lease @kubernetes/client-node',
  endpoints: '@baton/lock-endpoints @baton/lock-lease @kubernetes/client-node',
  configmap: '@baton/lock-endpoints @baton/lock-lease @kubernetes/client-node',
  redis: '@baton/lock-redis ioredis',
  postgres: '@baton/lock-postgres pg',
  etcd: '@baton/lock-etcd etcd3',
};

/** Loads a backend's module; a missing optional peer becomes a ConfigError that says what to install. */
function lazily(name: string, load: () => Promise<readonly LockBackend[]>): () => Promise<ContainerModule> {
  return async () => {
    try {
      return bindBackends(await load());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
      throw new ConfigError('backend', `the ${name} backend needs ${PACKAGES[name]} installed next to @baton/runtime (npm install ${PACKAGES[name]})`, {
        cause: error,
      });
    }
  };
}

/**
 * How to load the container module of each built-in backend that lives in its own package.
 * Imported lazily: a process loads one adapter and its client library (ioredis, pg, the
 * Kubernetes client) — and needs only that one installed (they are optional peers).
 */
export const BUILTIN_BACKEND_MODULES: Readonly<Record<string, () => Promise<ContainerModule>>> = {
  lease: lazily('lease', async () => [(await import('./lease.ts')).leaseBackend]),
  endpoints: lazily('endpoints', async () => [(await import('./endpoints.ts')).endpointsBackend]),
  configmap: lazily('configmap', async () => [(await import('./endpoints.ts')).configMapBackend]),
  redis: lazily('redis', async () => [(await import('./redis.ts')).redisBackend]),
  postgres: lazily('postgres', async () => [(await import('./postgres.ts')).postgresBackend]),
  etcd: lazily('etcd', async () => [(await import('./etcd.ts')).etcdBackend]),
};
