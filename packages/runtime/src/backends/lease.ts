import type { LockBackend } from '../registry.ts';
import { kubeConfigFromOptions, kubernetesBackendExtras, LeaseLockFactory } from '@baton/lock-lease';

/** The `lease` backend: a `coordination.k8s.io/v1` Lease named `leaderElectionID` in `namespace`. */
export const leaseBackend: LockBackend = {
  name: 'lease',
  section: 'kubernetes',
  description: 'Kubernetes coordination.k8s.io/v1 Lease',
  open(options, { namespace, logger, baseDir }) {
    const kubeConfig = kubeConfigFromOptions(options, baseDir);
    const { events, decorate } = kubernetesBackendExtras(options, kubeConfig, namespace, logger);
    const factory = new LeaseLockFactory({ kubeConfig, namespace, logger, events });
    return { lock: (name, identity) => factory.lock(name, identity), ...(decorate && { decorate }) };
  },
};
