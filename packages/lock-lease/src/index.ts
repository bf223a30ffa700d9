/**
 * @packageDocumentation
 * `@baton/lock-lease` — baton's lock on a `coordination.k8s.io/v1` Lease.
 *
 * The record maps onto the Lease spec exactly as client-go's LeaseLock maps it, so Go and
 * Node electors can share one Lease; writes are compare-and-swap on `resourceVersion`; the
 * lock watches the Lease so followers react to a release at once. Fencing tokens and
 * millisecond lease durations live in `baton.dev/*` annotations.
 *
 * Also here: the Kubernetes plumbing `@baton/lock-endpoints` reuses, Events on the lock
 * object, and {@link LeaderPodLabel} to route Service traffic to the leader.
 */
export { LeaseLock, leaseCodec, FENCING_TOKEN_ANNOTATION, LEASE_DURATION_MS_ANNOTATION } from './lease-lock.ts';
export { LeaseLockFactory, resolveKubeFactoryOptions, checkObjectName } from './lease-lock-factory.ts';
export type { KubeLockFactoryOptions } from './lease-lock-factory.ts';
export { KubernetesObjectLock } from './kube-object-lock.ts';
export type { KubeLockOptions, KubeObject, KubeObjectApi, RecordCodec } from './kube-object-lock.ts';
export { loadKubeConfig, defaultNamespace, kubernetesIdentity } from './kube-config.ts';
export { LeaderPodLabel, DEFAULT_LEADER_LABEL } from './leader-pod-label.ts';
export type { LeaderPodLabelOptions } from './leader-pod-label.ts';
export { toBatonError, statusOf } from './kube-errors.ts';
export { withSignal } from './request-options.ts';
export { durationMs, durationSeconds, fromKubeTime, toRfc3339 } from './kube-time.ts';
export { kubeConfigFromOptions, kubernetesBackendExtras } from './kube-options.ts';
export type { KubernetesBackendExtras } from './kube-options.ts';
