import { ConfigError } from '@baton/core';
import type { Logger } from '@baton/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { defaultNamespace, loadKubeConfig } from './kube-config.ts';
import { LeaseLock } from './lease-lock.ts';

/** Options shared by every lock a factory makes. */
export interface KubeLockFactoryOptions {
  /** Default: {@link loadKubeConfig} (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeConfig?: KubeConfig;
  /** Default: the pod's namespace in a cluster, else `default`. */
  namespace?: string;
  /** Record leader election Events on the lock objects. Default true. */
  events?: boolean;
  logger?: Logger;
}

/** Resolves and checks factory options, so every Kubernetes lock factory behaves alike. */
export function resolveKubeFactoryOptions(options: KubeLockFactoryOptions): Required<Omit<KubeLockFactoryOptions, 'logger'>> & { logger?: Logger } {
  const namespace = options.namespace ?? defaultNamespace();
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new ConfigError('namespace', `"${namespace}" is not a valid namespace name (RFC 1123 label)`);
  }
  return { kubeConfig: options.kubeConfig ?? loadKubeConfig(), namespace, events: options.events ?? true, logger: options.logger };
}

/** Checks an object name the way the API server will, before any request is made. */
export function checkObjectName(name: string): void {
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new ConfigError('name', `"${name}" is not a valid Kubernetes object name (lowercase RFC 1123 subdomain)`);
  }
}

/**
 * Makes {@link LeaseLock}s in one namespace with one KubeConfig.
 *
 * @example
 * const leases = new LeaseLockFactory({ namespace: 'default' });
 * const lock = leases.lock('my-controller', kubernetesIdentity());
 */
export class LeaseLockFactory {
  private readonly options: ReturnType<typeof resolveKubeFactoryOptions>;

  constructor(options: KubeLockFactoryOptions = {}) {
    this.options = resolveKubeFactoryOptions(options);
  }

  lock(name: string, identity: string): LeaseLock {
    checkObjectName(name);
    return new LeaseLock({ ...this.options, name, identity });
  }
}
