// Kubeconfig files and @kubernetes/client-node KubeConfig objects pointing at the fake server.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** The cluster (and context suffix) name in every kubeconfig this server writes. */
export const CLUSTER_NAME = 'fake-kube-apiserver';

const yamlString = (s: string): string => JSON.stringify(s);

/**
 * A kubeconfig document (YAML) for one server URL and bearer token; `caPem` is the server's
 * certificate for an https URL.
 */
export function kubeconfigYaml(url: string, user: string, token: string, caPem?: string, namespace = 'default'): string {
  const context = `${user}@${CLUSTER_NAME}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${yamlString(CLUSTER_NAME)}`,
    '  cluster:',
    `    server: ${yamlString(url)}`,
    ...(caPem ? [`    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`] : []),
    'users:',
    `- name: ${yamlString(user)}`,
    '  user:',
    `    token: ${yamlString(token)}`,
    'contexts:',
    `- name: ${yamlString(context)}`,
    '  context:',
    `    cluster: ${yamlString(CLUSTER_NAME)}`,
    `    user: ${yamlString(user)}`,
    `    namespace: ${yamlString(namespace)}`,
    `current-context: ${yamlString(context)}`,
    'preferences: {}',
    '',
  ].join('\n');
}

/** Writes a kubeconfig file (mode 0600: it holds a token), creating its directory. */
export function writeKubeconfigFile(path: string, url: string, user: string, token: string, caPem?: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, kubeconfigYaml(url, user, token, caPem), { mode: 0o600 });
}

/** The same kubeconfig as a client-node KubeConfig object, without touching the file system. */
export function makeKubeConfig(url: string, user: string, token: string, caPem?: string): KubeConfig {
  const kc = new KubeConfig();
  const context = `${user}@${CLUSTER_NAME}`;
  // client-node refuses plain http unless skipTLSVerify is set (there is nothing to verify).
  const cluster = caPem
    ? { name: CLUSTER_NAME, server: url, skipTLSVerify: false, caData: Buffer.from(caPem).toString('base64') }
    : { name: CLUSTER_NAME, server: url, skipTLSVerify: url.startsWith('http:') };
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: context, cluster: CLUSTER_NAME, user, namespace: 'default' }],
    currentContext: context,
  });
  return kc;
}
