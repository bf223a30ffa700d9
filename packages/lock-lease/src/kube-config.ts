import { defaultIdentity } from '@baton/core';
import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * A KubeConfig as client-go's clientcmd finds one: `KUBECONFIG`, then `~/.kube/config`, then
 * the in-cluster service account.
 */
export function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** The namespace to use by default: the pod's own in a cluster, else `default`. */
export function defaultNamespace(): string {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

/**
 * The identity for a pod: `POD_NAME` from the downward API when set (unique in its namespace
 * and what `kubectl get pods` shows), else core's host name plus random suffix.
 */
export function kubernetesIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME || defaultIdentity();
}
