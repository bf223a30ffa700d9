import { describeResourceLockContract } from '@baton/contract';
import { fakeTarget, realClusterTarget } from '../../lock-lease/test/kube-targets.ts';
import type { KubeTarget } from '../../lock-lease/test/kube-targets.ts';
import { AnnotationLockFactory, LEADER_ANNOTATION } from '../src/index.ts';
import type { AnnotationLockKind } from '../src/index.ts';
import { CoreV1Api } from '@kubernetes/client-node';

function annotationContract(target: KubeTarget, kind: AnnotationLockKind, stopTarget: boolean): void {
  const locks = new AnnotationLockFactory({ kubeConfig: target.kubeConfig, namespace: target.namespace, kind, events: false });
  const core = target.kubeConfig.makeApiClient(CoreV1Api);
  describeResourceLockContract({
    name: `${kind} annotation on ${target.name}`,
    createLock: (name, identity) => locks.lock(name, identity),
    plantCorruptRecord: async (name) => {
      const metadata = { name, annotations: { [LEADER_ANNOTATION]: '{"holderIdentity": 42, "leaseDurationSeconds": "soon"}' } };
      if (kind === 'configmap') await core.createNamespacedConfigMap({ namespace: target.namespace, body: { metadata } });
      else await core.createNamespacedEndpoints({ namespace: target.namespace, body: { metadata } });
    },
    watch: true,
    fastPath: true,
    teardown: async () => {
      await locks.close();
      if (stopTarget) await target.stop();
    },
  });
}

const fake = await fakeTarget();
annotationContract(fake, 'endpoints', false);
annotationContract(fake, 'configmap', true);
const real = realClusterTarget();
if (real) {
  annotationContract(real, 'endpoints', false);
  annotationContract(real, 'configmap', false);
}
