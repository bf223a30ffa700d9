import type { V1ConfigMap, V1Endpoints } from '@kubernetes/client-node';
import { KubeContext, KubernetesObjectLock, checkObjectName, resolveKubeFactoryOptions } from '@baton/lock-lease';
import type { KubeLockFactoryOptions, KubeLockOptions, KubeResource, ResolvedKubeFactoryOptions } from '@baton/lock-lease';
import { annotationCodec } from './annotation-codec.ts';

/** A core/v1 collection of a namespace. */
function coreResource(kind: string, plural: string, namespace: string): KubeResource {
  return { kind, apiVersion: 'v1', resource: plural, collectionPath: `/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}` };
}

/**
 * The legacy annotation lock on an Endpoints object, as kube-controller-manager and
 * kube-scheduler used before Leases (client-go's `EndpointsLock`). For migrations, pair it
 * with a Lease in core's `MultiLock` — client-go's `endpointsleases`.
 */
export class EndpointsLock extends KubernetesObjectLock<V1Endpoints> {
  constructor(options: KubeLockOptions, context?: KubeContext) {
    const { name, namespace } = options;
    super(options, coreResource('Endpoints', 'endpoints', namespace), annotationCodec(`endpoints ${namespace}/${name}`), context);
  }
}

/** The same annotation lock on a ConfigMap (client-go's `ConfigMapLock`); `data` is left alone. */
export class ConfigMapLock extends KubernetesObjectLock<V1ConfigMap> {
  constructor(options: KubeLockOptions, context?: KubeContext) {
    const { name, namespace } = options;
    super(options, coreResource('ConfigMap', 'configmaps', namespace), annotationCodec(`configmap ${namespace}/${name}`), context);
  }
}

/** Which object an annotation lock lives on. */
export type AnnotationLockKind = 'endpoints' | 'configmap';

/**
 * Makes annotation locks in one namespace with one KubeConfig; they share one HTTP client
 * and one watch on the namespace's Endpoints (or ConfigMaps).
 *
 * @example
 * const locks = new AnnotationLockFactory({ namespace: 'kube-system', kind: 'endpoints' });
 * const lock = locks.lock('my-controller', kubernetesIdentity());
 */
export class AnnotationLockFactory {
  private readonly options: ResolvedKubeFactoryOptions;
  private readonly kind: AnnotationLockKind;
  private readonly context: KubeContext;

  constructor(options: KubeLockFactoryOptions & { kind?: AnnotationLockKind } = {}) {
    this.options = resolveKubeFactoryOptions(options);
    this.kind = options.kind ?? 'endpoints';
    this.context = new KubeContext(this.options);
  }

  lock(name: string, identity: string): EndpointsLock | ConfigMapLock {
    checkObjectName(name);
    const options = { ...this.options, name, identity };
    return this.kind === 'configmap' ? new ConfigMapLock(options, this.context) : new EndpointsLock(options, this.context);
  }

  /** Watch streams open (1 per namespace watched, or 1 per lock object where RBAC allows no more). */
  get watchStreams(): number {
    return this.context.watchStreams;
  }

  /** Stops every watch and closes the sockets (an agent passed in stays open). Idempotent. */
  async close(): Promise<void> {
    this.context.close();
  }
}
