import type { ContainerModule } from 'inversify';

/**
 * How to load the container module of each built-in backend that lives in its own package.
 * Imported lazily: a process pays for one client library (ioredis, pg, the Kubernetes
 * client), not all of them.
 */
export const BUILTIN_BACKEND_MODULES: Readonly<Record<string, () => Promise<ContainerModule>>> = {
  lease: async () => (await import('@baton/lock-lease')).leaseContainerModule,
  endpoints: async () => (await import('@baton/lock-endpoints')).endpointsContainerModule,
  configmap: async () => (await import('@baton/lock-endpoints')).endpointsContainerModule,
  redis: async () => (await import('@baton/lock-redis')).redisContainerModule,
  postgres: async () => (await import('@baton/lock-postgres')).postgresContainerModule,
};
