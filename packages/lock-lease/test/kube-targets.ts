import { describe, test } from '@jest/globals';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { KubeConfig } from '@kubernetes/client-node';

/** A Kubernetes API to run suites on: the fake apiserver over HTTP, or a real cluster. */
export interface KubeTarget {
  name: string;
  kubeConfig: KubeConfig;
  namespace: string;
  /** Present on the fake apiserver only: faults, restart, direct state. */
  fake?: FakeApiServer;
  stop(): Promise<void>;
}

export async function fakeTarget(): Promise<KubeTarget> {
  const fake = await startFakeApiServer();
  return { name: 'fake-kube-apiserver', kubeConfig: fake.kubeConfig, namespace: 'default', fake, stop: () => fake.stop() };
}

/**
 * The cluster `KUBECONFIG` points at, when it is set; the namespace comes from
 * `BATON_TEST_NAMESPACE` (default `default`). Its tests create and leave Leases named
 * `contract-*`.
 */
export function realClusterTarget(): KubeTarget | undefined {
  if (!process.env.KUBECONFIG) {
    describe('real cluster', () => {
      test.skip('skipped: set KUBECONFIG to run these suites against a real cluster', () => {});
    });
    return undefined;
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return { name: 'real cluster', kubeConfig, namespace: process.env.BATON_TEST_NAMESPACE ?? 'default', stop: async () => {} };
}
