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
    deleteRecord: async (name) => {
      if (kind === 'configmap') await core.deleteNamespacedConfigMap({ namespace: target.namespace, name });
      else await core.deleteNamespacedEndpoints({ namespace: target.namespace, name });
    },
    // The fake apiserver can end every watch stream, as an apiserver restart would.
    interruptWatches: target.fake ? async () => target.fake!.faults.dropWatches() : undefined,
    // A child process reaches the fake apiserver through a kubeconfig file (a real cluster: KUBECONFIG).
    childProcessLock: () => ({
      module: new URL('./contract-child.ts', import.meta.url),
      options: { kubeconfig: target.fake ? target.fake.kubeconfigPath : process.env.KUBECONFIG!, namespace: target.namespace, kind },
      // The API server runs inside the jest worker, busy with the suite: attempts get 500 ms.
      timings: { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 },
    }),
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
