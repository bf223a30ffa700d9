/**
 * @packageDocumentation
 * `@baton/lock-endpoints` — the legacy Kubernetes leader annotation lock.
 *
 * The record lives as JSON in annotation `control-plane.alpha.kubernetes.io/leader` of an
 * Endpoints object (or a ConfigMap), in the format kube-controller-manager wrote for years,
 * so baton can join or take over an election that Go components run there — and, through
 * core's `MultiLock`, migrate a fleet from the annotation to a Lease without two leaders.
 * A malformed annotation is an `InvalidRecordError` naming the object, never overwritten.
 */
export { EndpointsLock, ConfigMapLock, AnnotationLockFactory } from './annotation-locks.ts';
export type { AnnotationLockKind } from './annotation-locks.ts';
export { annotationCodec, LEADER_ANNOTATION } from './annotation-codec.ts';
