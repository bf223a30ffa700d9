import { describeResourceLockContract } from '@baton/contract';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaseLockFactory, FENCING_TOKEN_ANNOTATION } from '../src/index.ts';
import { fakeTarget, realClusterTarget } from './kube-targets.ts';
import type { KubeTarget } from './kube-targets.ts';

function leaseContract(target: KubeTarget): void {
  const leases = new LeaseLockFactory({ kubeConfig: target.kubeConfig, namespace: target.namespace, events: false });
  describeResourceLockContract({
    name: `lease on ${target.name}`,
    createLock: (name, identity) => leases.lock(name, identity),
    plantCorruptRecord: async (name) => {
      await target.kubeConfig.makeApiClient(CoordinationV1Api).createNamespacedLease({
        namespace: target.namespace,
        body: {
          metadata: { name, annotations: { [FENCING_TOKEN_ANNOTATION]: 'not-a-number' } },
          spec: { holderIdentity: 'someone-else', leaseDurationSeconds: 10 },
        },
      });
    },
    watch: true,
    deleteRecord: async (name) => {
      await target.kubeConfig.makeApiClient(CoordinationV1Api).deleteNamespacedLease({ namespace: target.namespace, name });
    },
    // The fake apiserver can end every watch stream, as an apiserver restart would.
    interruptWatches: target.fake ? async () => target.fake!.faults.dropWatches() : undefined,
    // A child process reaches the fake apiserver through a kubeconfig file (a real cluster: KUBECONFIG).
    childProcessLock: () => ({
      module: new URL('./contract-child.ts', import.meta.url),
      options: { kubeconfig: target.fake ? target.fake.kubeconfigPath : process.env.KUBECONFIG!, namespace: target.namespace },
      // The API server runs inside the jest worker, busy with the suite: attempts get 500 ms.
      timings: { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 },
    }),
    fastPath: true,
    teardown: async () => {
      await leases.close();
      await target.stop();
    },
  });
}

leaseContract(await fakeTarget());
const real = realClusterTarget();
if (real) leaseContract(real);
