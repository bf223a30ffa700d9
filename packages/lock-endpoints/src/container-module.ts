import { kubeConfigFromOptions, kubernetesBackendExtras } from '@baton/lock-lease';
import type { KubernetesLockBackend } from '@baton/lock-lease';
import { ContainerModule } from 'inversify';
import { AnnotationLockFactory } from './annotation-locks.ts';

// The binding contract of `@baton/cli` (its registry.ts), declared here structurally so this
// package does not depend on the CLI: two `Symbol.for` keys and the shape of a backend. The
// CLI's type check verifies that this declaration still matches its own.
const LOCK_BACKEND = Symbol.for('baton.LockBackend');
const BACKEND_NAME = Symbol.for('baton.BackendName');

/** What `@baton/cli` resolves under `Symbol.for('baton.LockBackend')`: lock-lease's Kubernetes backend shape. */
export type AnnotationLockBackend = KubernetesLockBackend & { readonly name: 'endpoints' | 'configmap' };

function annotationBackend(kind: 'endpoints' | 'configmap'): AnnotationLockBackend {
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
export const endpointsBackend = annotationBackend('endpoints');
/** The `configmap` backend: the annotation lock on a ConfigMap named `leaderElectionID`. */
export const configMapBackend = annotationBackend('configmap');

/** For `@baton/cli`'s container: binds {@link endpointsBackend} and {@link configMapBackend} under `endpoints` and `configmap`. */
export const endpointsContainerModule = new ContainerModule(({ bind }) => {
  for (const backend of [endpointsBackend, configMapBackend]) {
    bind(LOCK_BACKEND).toConstantValue(backend).whenNamed(backend.name);
    bind(BACKEND_NAME).toConstantValue(backend.name);
  }
});
