import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, type LeaderCallbacks, type Logger } from '@baton/core';
import { KubeConfig } from '@kubernetes/client-node';
import { defaultNamespace, loadKubeConfig } from './kube-config.ts';
import { DEFAULT_LEADER_LABEL, LeaderPodLabel } from './leader-pod-label.ts';

/** The options of the `kubernetes:` section that are not about reaching the API server. */
export interface KubernetesBackendExtras {
  /** Record leader election Events on the lock object (default true). */
  events: boolean;
  /** Labels the leading pod when configured (see {@link LeaderPodLabel}). */
  decorate?(callbacks: LeaderCallbacks, identity: string): LeaderCallbacks;
}

/**
 * Reads `events`, `leaderPodLabel` (`true` for `baton.dev/leader`, or a label key) and
 * `podName` (default `$POD_NAME`, else the identity) from the `kubernetes:` section.
 * @throws ConfigError naming the option.
 */
export function kubernetesBackendExtras(
  options: Record<string, unknown>,
  kubeConfig: KubeConfig,
  namespace: string | undefined,
  logger: Logger,
): KubernetesBackendExtras {
  const { events, leaderPodLabel, podName } = options;
  if (events !== undefined && typeof events !== 'boolean') throw new ConfigError('events', 'must be true or false');
  if (leaderPodLabel !== undefined && typeof leaderPodLabel !== 'boolean' && typeof leaderPodLabel !== 'string') {
    throw new ConfigError('leaderPodLabel', 'must be true, false, or a label key');
  }
  if (podName !== undefined && typeof podName !== 'string') throw new ConfigError('podName', 'must be a string');
  if (!leaderPodLabel) return { events: events ?? true };
  const key = leaderPodLabel === true ? DEFAULT_LEADER_LABEL : leaderPodLabel;
  return {
    events: events ?? true,
    decorate: (callbacks, identity) =>
      new LeaderPodLabel({
        kubeConfig,
        namespace: namespace ?? defaultNamespace(),
        podName: podName ?? (process.env.POD_NAME || identity),
        key,
        logger,
      }).wrap(callbacks),
  };
}

/**
 * A KubeConfig from the `kubernetes:` section of baton's configuration:
 * - `url` (+ `token`, `certificateAuthority`, `insecureSkipTLSVerify`): that API server;
 * - `kubeconfig` (+ `context`): that file (`~/` and paths relative to `baseDir` allowed);
 * - neither: `$KUBECONFIG`, `~/.kube/config`, then the in-cluster service account (+ `context`).
 * @throws ConfigError naming the option.
 */
export function kubeConfigFromOptions(options: Record<string, unknown>, baseDir: string = process.cwd()): KubeConfig {
  const { kubeconfig, context, url, token, insecureSkipTLSVerify, certificateAuthority } = options;
  for (const [field, value] of Object.entries({ kubeconfig, context, url, token, certificateAuthority })) {
    if (value !== undefined && typeof value !== 'string') throw new ConfigError(field, 'must be a string');
  }
  if (insecureSkipTLSVerify !== undefined && typeof insecureSkipTLSVerify !== 'boolean') {
    throw new ConfigError('insecureSkipTLSVerify', 'must be true or false');
  }
  if (url !== undefined && kubeconfig !== undefined) throw new ConfigError('url', 'give either url or kubeconfig, not both');
  if (typeof url === 'string') {
    // client-node refuses plain http unless told to skip TLS verification: there is none to skip.
    const skipTLSVerify = insecureSkipTLSVerify === true || url.startsWith('http:');
    const caFile = typeof certificateAuthority === 'string' ? resolvePath(certificateAuthority, baseDir) : undefined;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'baton', server: url, skipTLSVerify, ...(caFile && { caFile }) }],
      users: [{ name: 'baton', ...(typeof token === 'string' && { token }) }],
      contexts: [{ name: 'baton', cluster: 'baton', user: 'baton' }],
      currentContext: 'baton',
    });
    return kubeConfig;
  }
  if (typeof kubeconfig === 'string') {
    const path = resolvePath(kubeconfig, baseDir);
    const kubeConfig = new KubeConfig();
    try {
      kubeConfig.loadFromFile(path);
    } catch (error) {
      throw new ConfigError('kubeconfig', `cannot load ${path}: ${(error as Error).message}`, { cause: error });
    }
    return withContext(kubeConfig, context);
  }
  let kubeConfig: KubeConfig;
  try {
    kubeConfig = loadKubeConfig();
  } catch (error) {
    throw new ConfigError('kubeconfig', `no usable kubeconfig ($KUBECONFIG, ~/.kube/config, in-cluster): ${(error as Error).message}`, { cause: error });
  }
  return withContext(kubeConfig, context);
}

/** `~/x`, an absolute path, or a path relative to `baseDir`. */
function resolvePath(path: string, baseDir: string): string {
  return path.startsWith('~/') ? resolve(homedir(), path.slice(2)) : isAbsolute(path) ? path : resolve(baseDir, path);
}

function withContext(kubeConfig: KubeConfig, context: unknown): KubeConfig {
  if (typeof context !== 'string') return kubeConfig;
  if (!kubeConfig.getContextObject(context)) {
    const known = kubeConfig.getContexts().map((c) => c.name);
    throw new ConfigError('context', `no context "${context}" in the kubeconfig; it has: ${known.join(', ') || 'none'}`);
  }
  kubeConfig.setCurrentContext(context);
  return kubeConfig;
}

