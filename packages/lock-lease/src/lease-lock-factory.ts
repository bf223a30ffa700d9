import { ConfigError } from '@baton/core';
import type { Clock, Logger, ResourceLockFactory } from '@baton/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { defaultNamespace, loadKubeConfig } from './kube-config.ts';
import { KubeContext } from './kube-context.ts';
import type { KubeClientOptions } from './kube-object.ts';
import { LeaseLock } from './lease-lock.ts';

/** Options shared by every lock a factory makes. */
export interface KubeLockFactoryOptions extends KubeClientOptions {
  /** Default: {@link loadKubeConfig} (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeConfig?: KubeConfig;
  /** Default: the pod's namespace in a cluster, else `default`. */
  namespace?: string;
  /** Record leader election Events on the lock objects. Default true. */
  events?: boolean;
  logger?: Logger;
  /** Timers of the watch backoff and the rate limiter. Default: the system clock. */
  clock?: Clock;
}

/** Factory options with their defaults applied. */
export type ResolvedKubeFactoryOptions = KubeLockFactoryOptions & { kubeConfig: KubeConfig; namespace: string; events: boolean };

/** Resolves and checks factory options, so every Kubernetes lock factory behaves alike. */
export function resolveKubeFactoryOptions(options: KubeLockFactoryOptions): ResolvedKubeFactoryOptions {
  const namespace = options.namespace ?? defaultNamespace();
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new ConfigError('namespace', `"${namespace}" is not a valid namespace name (RFC 1123 label)`);
  }
  for (const field of ['qps', 'burst'] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) throw new ConfigError(field, 'must be a positive number');
  }
  return { ...options, kubeConfig: options.kubeConfig ?? loadKubeConfig(), namespace, events: options.events ?? true };
}

/** Checks an object name the way the API server will, before any request is made. */
export function checkObjectName(name: string): void {
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new ConfigError('name', `"${name}" is not a valid Kubernetes object name (lowercase RFC 1123 subdomain)`);
  }
}

/**
 * Makes {@link LeaseLock}s in one namespace with one KubeConfig. Its locks share one HTTP
 * client (a keep-alive pool of `maxConnections` sockets, a `qps`/`burst` rate limiter that
 * serves renewals first) and one watch on the namespace's Leases.
 *
 * @example
 * const leases = new LeaseLockFactory({ namespace: 'default' });
 * const lock = leases.lock('my-controller', kubernetesIdentity());
 */
export class LeaseLockFactory implements ResourceLockFactory {
  private readonly options: ResolvedKubeFactoryOptions;
  private readonly context: KubeContext;

  constructor(options: KubeLockFactoryOptions = {}) {
    this.options = resolveKubeFactoryOptions(options);
    this.context = new KubeContext(this.options);
  }

  lock(name: string, identity: string): LeaseLock {
    checkObjectName(name);
    return new LeaseLock({ ...this.options, name, identity }, this.context);
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
