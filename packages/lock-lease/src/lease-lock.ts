import { InvalidRecordError } from '@baton/core';
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeContext } from './kube-context.ts';
import { KubernetesObjectLock } from './kube-object-lock.ts';
import type { KubeLockOptions, KubeResource, RecordCodec } from './kube-object.ts';
import { durationMs, durationSeconds, readCount, readDurationSeconds, readTime, termMark, toMicroTime } from './kube-time.ts';

/** Annotation keeping the fencing token, which a Lease's spec has no field for. */
export const FENCING_TOKEN_ANNOTATION = 'baton.dev/fencing-token';
/** Annotation keeping the lease duration in milliseconds beside the spec's whole seconds. */
export const LEASE_DURATION_MS_ANNOTATION = 'baton.dev/lease-duration-ms';
/**
 * Annotation naming the term baton's other annotations were written for:
 * `<leaseTransitions>/<holderIdentity>`. Other clients keep annotations they did not write,
 * so after a client-go takeover the milliseconds left by baton no longer match the spec's
 * holder and are ignored.
 */
export const TERM_ANNOTATION = 'baton.dev/term';

/** The raw form a Lease's spec may arrive in (the API server's, or a fixture's). */
interface LeaseSpecFields {
  holderIdentity?: unknown;
  leaseDurationSeconds?: unknown;
  acquireTime?: unknown;
  renewTime?: unknown;
  leaseTransitions?: unknown;
}

/**
 * The record in a Lease, field for field as client-go maps it (`holderIdentity`,
 * `leaseDurationSeconds`, `acquireTime`, `renewTime`, `leaseTransitions`), plus annotations
 * for what the spec cannot carry: the fencing token (a high-water mark, read whoever holds
 * the Lease) and the milliseconds of the duration (read only for the term they were written
 * for). `strategy`, `preferredHolder`, labels and other annotations are left as they are.
 */
export function leaseCodecFor(describe: string): RecordCodec<V1Lease> {
  return {
    decode(lease) {
      const spec = (lease.spec ?? {}) as LeaseSpecFields;
      const annotations = lease.metadata?.annotations ?? {};
      if (!spec.holderIdentity && (spec.leaseDurationSeconds === undefined || spec.leaseDurationSeconds === null)) return null;
      if (spec.holderIdentity !== undefined && spec.holderIdentity !== null && typeof spec.holderIdentity !== 'string') {
        throw new InvalidRecordError(describe, `spec.holderIdentity must be a string, got ${JSON.stringify(spec.holderIdentity)}`);
      }
      const holderIdentity = spec.holderIdentity ?? '';
      const leaderTransitions = readCount(spec.leaseTransitions, 'spec.leaseTransitions', describe);
      const seconds = readDurationSeconds(spec.leaseDurationSeconds, 'spec.leaseDurationSeconds', describe);
      const ownTerm = annotations[TERM_ANNOTATION] === termMark(holderIdentity, leaderTransitions);
      return {
        holderIdentity,
        leaseDurationMs: durationMs(seconds, annotations[LEASE_DURATION_MS_ANNOTATION], ownTerm),
        acquireTime: readTime(spec.acquireTime, 'spec.acquireTime', describe),
        renewTime: readTime(spec.renewTime, 'spec.renewTime', describe),
        leaderTransitions,
        fencingToken: readCount(annotations[FENCING_TOKEN_ANNOTATION], `annotation ${FENCING_TOKEN_ANNOTATION}`, describe),
      };
    },
    encode(record, lease) {
      lease.metadata = {
        ...lease.metadata,
        annotations: {
          ...lease.metadata?.annotations,
          [FENCING_TOKEN_ANNOTATION]: String(record.fencingToken),
          [LEASE_DURATION_MS_ANNOTATION]: String(record.leaseDurationMs),
          [TERM_ANNOTATION]: termMark(record.holderIdentity, record.leaderTransitions),
        },
      };
      // MicroTime strings as the API server writes them (the object is sent as plain JSON).
      const spec = {
        ...lease.spec,
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: durationSeconds(record),
        acquireTime: toMicroTime(record.acquireTime),
        renewTime: toMicroTime(record.renewTime),
        leaseTransitions: record.leaderTransitions,
      };
      lease.spec = spec as unknown as V1Lease['spec'];
      return lease;
    },
  };
}

/** {@link leaseCodecFor} for a Lease named in errors as `lease`. */
export const leaseCodec: RecordCodec<V1Lease> = leaseCodecFor('lease');

/** The Leases of a namespace. */
export function leaseResource(namespace: string): KubeResource {
  return {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    resource: 'leases.coordination.k8s.io',
    collectionPath: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`,
  };
}

/**
 * A lock on a `coordination.k8s.io/v1` Lease, interoperable with client-go's LeaseLock: a Go
 * elector and a baton elector can share one Lease. Prefer {@link LeaseLockFactory}, whose
 * locks share one client and one watch; a lock built alone has its own.
 *
 * @example
 * const lock = new LeaseLock({ name: 'my-controller', namespace: 'default', identity: kubernetesIdentity(), kubeConfig });
 */
export class LeaseLock extends KubernetesObjectLock<V1Lease> {
  constructor(options: KubeLockOptions, context?: KubeContext) {
    super(options, leaseResource(options.namespace), leaseCodecFor(`lease ${options.namespace}/${options.name}`), context);
  }
}
