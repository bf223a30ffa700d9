/**
 * The backends the end-to-end tests run `baton` on, each as the flags that select it (and a
 * server to start first, for the Kubernetes ones).
 */
import { loadConfig, type LoadedConfig } from '../../src/config/load.ts';

export interface E2eBackend {
  readonly name: string;
  /** Starts what the backend needs; returns the flags that point baton at it. */
  setUp(): Promise<string[]>;
  tearDown(): Promise<void>;
}

export const redisBackend: E2eBackend = {
  name: 'redis',
  setUp: async () => ['--backend', 'redis', '--url', 'redis://127.0.0.1:6379', '--redis-key-prefix', 'baton-e2e:'],
  tearDown: async () => {},
};

export const postgresBackend: E2eBackend = {
  name: 'postgres',
  setUp: async () => ['--backend', 'postgres', '--url', 'postgres://postgres@127.0.0.1:5432/test'],
  tearDown: async () => {},
};

/** A Kubernetes backend on a fake kube-apiserver started in the test process. */
export function kubernetesBackend(name: 'lease' | 'endpoints' | 'configmap'): E2eBackend {
  let stop: (() => Promise<void>) | undefined;
  return {
    name,
    async setUp() {
      const { startFakeApiServer } = await import('@baton/fake-kube-apiserver');
      const server = await startFakeApiServer({ port: 0 });
      stop = () => server.stop();
      return ['--backend', name, '--kubeconfig', server.kubeconfigPath];
    },
    async tearDown() {
      await stop?.();
    },
  };
}

/** The configuration the flags describe, to open the same lock from the test. */
export function configFromFlags(flags: readonly string[], lockName: string): Promise<LoadedConfig> {
  const values: Record<string, string> = {};
  for (let i = 0; i < flags.length; i += 2) values[flags[i]!.slice(2)] = flags[i + 1]!;
  return loadConfig({ env: {}, flags: { ...values, id: lockName } });
}
