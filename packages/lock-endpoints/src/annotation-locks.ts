import { CoreV1Api } from '@kubernetes/client-node';
import type { V1ConfigMap, V1Endpoints } from '@kubernetes/client-node';
import { KubernetesObjectLock, checkObjectName, resolveKubeFactoryOptions, withSignal } from '@baton/lock-lease';
import type { KubeLockFactoryOptions, KubeLockOptions, KubeObject, KubeObjectApi } from '@baton/lock-lease';
import { annotationCodec } from './annotation-codec.ts';

function coreApi<T extends KubeObject>(options: KubeLockOptions, kind: string, plural: string, calls: (api: CoreV1Api) => Omit<KubeObjectApi<T>, 'kind' | 'apiVersion' | 'collectionPath'>): KubeObjectApi<T> {
  return {
    kind,
    apiVersion: 'v1',
    collectionPath: `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/${plural}`,
    ...calls(options.kubeConfig.makeApiClient(CoreV1Api)),
  };
}

/**
 * The legacy annotation lock on an Endpoints object, as kube-controller-manager and
 * kube-scheduler used before Leases (client-go's `EndpointsLock`). For migrations, pair it
 * with a Lease in core's `MultiLock` — client-go's `endpointsleases`.
 */
export class EndpointsLock extends KubernetesObjectLock<V1Endpoints> {
  constructor(options: KubeLockOptions) {
    const { name, namespace } = options;
    const api = coreApi<V1Endpoints>(options, 'Endpoints', 'endpoints', (core) => ({
      read: (signal) => core.readNamespacedEndpoints({ name, namespace }, withSignal(signal)),
      create: (body, signal) => core.createNamespacedEndpoints({ namespace, body }, withSignal(signal)),
      replace: (body, signal) => core.replaceNamespacedEndpoints({ name, namespace, body }, withSignal(signal)),
    }));
    super(options, api, annotationCodec(`endpoints ${namespace}/${name}`));
  }
}

/** The same annotation lock on a ConfigMap (client-go's `ConfigMapLock`); `data` is left alone. */
export class ConfigMapLock extends KubernetesObjectLock<V1ConfigMap> {
  constructor(options: KubeLockOptions) {
    const { name, namespace } = options;
    const api = coreApi<V1ConfigMap>(options, 'ConfigMap', 'configmaps', (core) => ({
      read: (signal) => core.readNamespacedConfigMap({ name, namespace }, withSignal(signal)),
      create: (body, signal) => core.createNamespacedConfigMap({ namespace, body }, withSignal(signal)),
      replace: (body, signal) => core.replaceNamespacedConfigMap({ name, namespace, body }, withSignal(signal)),
    }));
    super(options, api, annotationCodec(`configmap ${namespace}/${name}`));
  }
}

/** Which object an annotation lock lives on. */
export type AnnotationLockKind = 'endpoints' | 'configmap';

/**
 * Makes annotation locks in one namespace with one KubeConfig.
 *
 * @example
 * const locks = new AnnotationLockFactory({ namespace: 'kube-system', kind: 'endpoints' });
 * const lock = locks.lock('my-controller', kubernetesIdentity());
 */
export class AnnotationLockFactory {
  private readonly options: ReturnType<typeof resolveKubeFactoryOptions>;
  private readonly kind: AnnotationLockKind;

  constructor(options: KubeLockFactoryOptions & { kind?: AnnotationLockKind } = {}) {
    this.options = resolveKubeFactoryOptions(options);
    this.kind = options.kind ?? 'endpoints';
  }

  lock(name: string, identity: string): EndpointsLock | ConfigMapLock {
    checkObjectName(name);
    const options = { ...this.options, name, identity };
    return this.kind === 'configmap' ? new ConfigMapLock(options) : new EndpointsLock(options);
  }
}
