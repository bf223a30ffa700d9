/**
 * The backends the end-to-end tests run `baton` on, each as the flags that select it (and a
 * server to start first, for the Kubernetes ones).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { loadConfig, type LoadedConfig } from '@baton/runtime';

const run = promisify(execFile);

export interface E2eBackend {
  readonly name: string;
  /** Starts what the backend needs; returns the flags that point baton at it. */
  setUp(): Promise<string[]>;
  tearDown(): Promise<void>;
}

/** A key prefix of this test run's own, so its keys (fencing counters never expire) can be removed. */
export function runKeyPrefix(label: string): string {
  return `baton-${label}-${process.pid}-${randomBytes(3).toString('hex')}:`;
}

/** Deletes every key under `prefix` on the local Redis. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--scan', '--pattern', `${prefix}*`]);
  const keys = stdout.split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'DEL', ...keys.slice(i, i + 500)]);
}

const e2ePrefix = runKeyPrefix('e2e');

export const redisBackend: E2eBackend = {
  name: 'redis',
  setUp: async () => ['--backend', 'redis', '--url', 'redis://127.0.0.1:6379', '--redis-key-prefix', e2ePrefix],
  tearDown: () => deleteRedisKeys(e2ePrefix),
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
