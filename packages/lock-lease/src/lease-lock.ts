import type { LeaderElectionRecord } from '@baton/core';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { V1Lease } from '@kubernetes/client-node';
import { KubernetesObjectLock } from './kube-object-lock.ts';
import type { KubeLockOptions, KubeObjectApi, RecordCodec } from './kube-object-lock.ts';
import { durationMs, durationSeconds, fromKubeTime } from './kube-time.ts';
import { withSignal } from './request-options.ts';

/** Annotation keeping the fencing token, which a Lease's spec has no field for. */
export const FENCING_TOKEN_ANNOTATION = 'baton.dev/fencing-token';
/** Annotation keeping the lease duration in milliseconds beside the spec's whole seconds. */
export const LEASE_DURATION_MS_ANNOTATION = 'baton.dev/lease-duration-ms';

/**
 * The record in a Lease, field for field as client-go maps it (`holderIdentity`,
 * `leaseDurationSeconds`, `acquireTime`, `renewTime`, `leaseTransitions`), plus two
 * annotations for what the spec cannot carry. `strategy`, `preferredHolder`, labels and
 * other annotations are left as they are.
 */
export const leaseCodec: RecordCodec<V1Lease> = {
  decode(lease) {
    const spec = lease.spec ?? {};
    const annotations = lease.metadata?.annotations ?? {};
    if (!spec.holderIdentity && spec.leaseDurationSeconds === undefined) return null;
    return {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationMs: durationMs(spec.leaseDurationSeconds, annotations[LEASE_DURATION_MS_ANNOTATION]),
      acquireTime: fromKubeTime(spec.acquireTime) ?? 0,
      renewTime: fromKubeTime(spec.renewTime) ?? 0,
      leaderTransitions: spec.leaseTransitions ?? 0,
      fencingToken: Number(annotations[FENCING_TOKEN_ANNOTATION] ?? 0),
    };
  },
  encode(record, lease) {
    lease.metadata = {
      ...lease.metadata,
      annotations: {
        ...lease.metadata?.annotations,
        [FENCING_TOKEN_ANNOTATION]: String(record.fencingToken),
        [LEASE_DURATION_MS_ANNOTATION]: String(record.leaseDurationMs),
      },
    };
    lease.spec = {
      ...lease.spec,
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: durationSeconds(record),
      acquireTime: new V1MicroTime(record.acquireTime),
      renewTime: new V1MicroTime(record.renewTime),
      leaseTransitions: record.leaderTransitions,
    };
    return lease;
  },
};

function leaseApi(options: KubeLockOptions): KubeObjectApi<V1Lease> {
  const api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const { name, namespace } = options;
  return {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    collectionPath: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`,
    read: (signal) => api.readNamespacedLease({ name, namespace }, withSignal(signal)),
    create: (body, signal) => api.createNamespacedLease({ namespace, body }, withSignal(signal)),
    replace: (body, signal) => api.replaceNamespacedLease({ name, namespace, body }, withSignal(signal)),
  };
}

/**
 * A lock on a `coordination.k8s.io/v1` Lease, interoperable with client-go's LeaseLock: a Go
 * elector and a baton elector can share one Lease.
 *
 * @example
 * const lock = new LeaseLock({ name: 'my-controller', namespace: 'default', identity: kubernetesIdentity(), kubeConfig });
 */
export class LeaseLock extends KubernetesObjectLock<V1Lease> {
  constructor(options: KubeLockOptions) {
    super(options, leaseApi(options), leaseCodec);
  }
}

