import type { BackendDriver, BackendName } from './types.ts';

/**
 * The backends the harness and the benches know. Adding one is one module implementing
 * {@link BackendDriver} plus one line here. Modules are loaded lazily, so a run on Redis never
 * loads the Kubernetes client.
 */
const DRIVERS: Record<BackendName, () => Promise<BackendDriver>> = {
  lease: async () => (await import('./kube.ts')).leaseDriver,
  endpoints: async () => (await import('./kube.ts')).endpointsDriver,
  redis: async () => (await import('./redis.ts')).redisDriver,
  postgres: async () => (await import('./postgres.ts')).postgresDriver,
  etcd: async () => (await import('./etcd.ts')).etcdDriver,
};

export const BACKENDS = Object.keys(DRIVERS) as BackendName[];

export function isBackend(name: string): name is BackendName {
  return Object.hasOwn(DRIVERS, name);
}

export async function loadDriver(name: string): Promise<BackendDriver> {
  if (!isBackend(name)) throw new Error(`unknown backend "${name}" (known: ${BACKENDS.join(', ')})`);
  return DRIVERS[name]();
}

/** Parses `--backend a,b` or `all`. */
export function parseBackends(value: string | undefined): BackendName[] {
  if (value === undefined || value === 'all') return [...BACKENDS];
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) if (!isBackend(name)) throw new Error(`unknown backend "${name}" (known: ${BACKENDS.join(', ')})`);
  return names as BackendName[];
}
