// How a child process of the contract's cross-process case makes its locks (see
// ContractTarget.childProcessLock): a kubeconfig file for the same API server, its own client.
import { KubeConfig } from '@kubernetes/client-node';
import type { ResourceLock } from '@baton/core';
import { AnnotationLockFactory } from '../src/index.ts';
import type { AnnotationLockKind } from '../src/index.ts';

let factory: AnnotationLockFactory | undefined;

export function createLock(lockName: string, identity: string, options: { kubeconfig: string; namespace: string; kind: AnnotationLockKind }): ResourceLock {
  if (!factory) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(options.kubeconfig);
    factory = new AnnotationLockFactory({ kubeConfig, namespace: options.namespace, kind: options.kind, events: false });
  }
  return factory.lock(lockName, identity);
}
