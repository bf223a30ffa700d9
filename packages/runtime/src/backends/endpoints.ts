import { AnnotationLockFactory } from '@baton/lock-endpoints';
import { kubeConfigFromOptions, kubernetesBackendExtras } from '@baton/lock-lease';
import type { LockBackend } from '../registry.ts';

function annotationBackend(kind: 'endpoints' | 'configmap'): LockBackend {
  return {
    name: kind,
    section: 'kubernetes',
    description: `the legacy leader annotation on ${kind === 'endpoints' ? 'an Endpoints object' : 'a ConfigMap'}`,
    open(options, { namespace, logger, baseDir }) {
      const kubeConfig = kubeConfigFromOptions(options, baseDir);
      const { events, decorate } = kubernetesBackendExtras(options, kubeConfig, namespace, logger);
      const factory = new AnnotationLockFactory({ kind, kubeConfig, namespace, logger, events });
      return { lock: (name, identity) => factory.lock(name, identity), ...(decorate && { decorate }) };
    },
  };
}

/** The `endpoints` backend: the annotation lock on an Endpoints object named `leaderElectionID`. */
export const endpointsBackend: LockBackend = annotationBackend('endpoints');
/** The `configmap` backend: the annotation lock on a ConfigMap named `leaderElectionID`. */
export const configMapBackend: LockBackend = annotationBackend('configmap');
