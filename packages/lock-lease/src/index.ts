/**
 * @packageDocumentation
 * `@baton/lock-lease` — baton's lock on a `coordination.k8s.io/v1` Lease.
 *
 * The record maps onto the Lease spec exactly as client-go's LeaseLock maps it, so Go and
 * Node electors can share one Lease; writes are compare-and-swap on `resourceVersion`; the
 * locks of a factory share one HTTP client and one watch per namespace, so followers react
 * to a release at once. Fencing tokens and millisecond lease durations live in `baton.dev/*`
 * annotations.
 *
 * Also here: the Kubernetes plumbing `@baton/lock-endpoints` reuses, Events on the lock
 * object, and {@link LeaderPodLabel} to route Service traffic to the leader.
 */
export { LeaseLock, leaseCodec, leaseCodecFor, leaseResource, FENCING_TOKEN_ANNOTATION, LEASE_DURATION_MS_ANNOTATION, TERM_ANNOTATION } from './lease-lock.ts';
export { LeaseLockFactory, resolveKubeFactoryOptions, checkObjectName } from './lease-lock-factory.ts';
export type { KubeLockFactoryOptions, ResolvedKubeFactoryOptions } from './lease-lock-factory.ts';
export { KubernetesObjectLock } from './kube-object-lock.ts';
export type { KubeClientOptions, KubeLockOptions, KubeObject, KubeResource, LeaderEventSink, RecordCodec } from './kube-object.ts';
export { KubeContext } from './kube-context.ts';
export { KubeClient, KubeApiError, KubeNetworkError } from './kube-client.ts';
export type { KubeStatus } from './kube-client.ts';
export { RateLimiter, HOLD_STREAK } from './rate-limiter.ts';
export type { RequestPriority } from './rate-limiter.ts';
export { loadKubeConfig, defaultNamespace, kubernetesIdentity } from './kube-config.ts';
export { LeaderPodLabel, DEFAULT_LEADER_LABEL } from './leader-pod-label.ts';
export type { LeaderPodLabelOptions } from './leader-pod-label.ts';
export { toBatonError, statusOf } from './kube-errors.ts';
export type { KubeCall } from './kube-errors.ts';
export { durationMs, durationSeconds, fromKubeTime, readCount, readDurationSeconds, readTime, termMark, toMicroTime, toRfc3339 } from './kube-time.ts';
export { leaseContainerModule, leaseBackend, kubeConfigFromOptions, kubernetesBackendExtras } from './container-module.ts';
export type { KubernetesLockBackend, KubernetesLockFactory, KubernetesBackendExtras } from './container-module.ts';
