// How a child process of the contract's cross-process case makes its locks (see
// ContractTarget.childProcessLock): a kubeconfig file for the same API server, its own client.
import { KubeConfig } from '@kubernetes/client-node';
import { LeaseLockFactory } from '../src/index.ts';
import type { ResourceLock } from '@baton/core';

let factory: LeaseLockFactory | undefined;

export function createLock(lockName: string, identity: string, options: { kubeconfig: string; namespace: string }): ResourceLock {
  if (!factory) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(options.kubeconfig);
    factory = new LeaseLockFactory({ kubeConfig, namespace: options.namespace, events: false });
  }
  return factory.lock(lockName, identity);
}
