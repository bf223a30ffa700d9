import type { Logger } from '@baton/core';

/** Where the demo's candidates campaign, and how to tear it down. */
export interface DemoBackend {
  /** The backend's option section for the candidates' configuration. */
  readonly section: Record<string, unknown>;
  /** One line for the banner. */
  readonly description: string;
  stop(): Promise<void>;
}

export const DEMO_BACKENDS = ['lease', 'endpoints', 'configmap', 'redis', 'postgres'] as const;
export type DemoBackendName = (typeof DEMO_BACKENDS)[number];

/**
 * Prepares the backend: for the Kubernetes backends without `--url`, a fake kube-apiserver
 * in this process (its kubeconfig goes to the candidates); otherwise the given server.
 */
export async function setUpBackend(backend: DemoBackendName, url: string | undefined, kubernetes: Record<string, unknown>, _logger: Logger): Promise<DemoBackend> {
  switch (backend) {
    case 'lease':
    case 'endpoints':
    case 'configmap': {
      if (url !== undefined) {
        return { section: { url, ...kubernetes }, description: `Kubernetes API server ${url}`, stop: async () => {} };
      }
      const { startFakeApiServer } = await import('@baton/fake-kube-apiserver');
      // The demo may be pointed at any namespace: create it on first use, as a demo should.
      const server = await startFakeApiServer({ port: 0, autoCreateNamespaces: true });
      return {
        section: { kubeconfig: server.kubeconfigPath },
        description: `fake kube-apiserver in this process at ${server.httpsUrl}`,
        stop: () => server.stop(),
      };
    }
    case 'redis': {
      const target = url ?? 'redis://127.0.0.1:6379';
      return { section: { url: target, keyPrefix: 'baton-demo:' }, description: `Redis at ${redact(target)}`, stop: async () => {} };
    }
    case 'postgres':
      return {
        section: url === undefined ? {} : { url },
        description: `PostgreSQL at ${url === undefined ? 'the PG* environment' : redact(url)}`,
        stop: async () => {},
      };
  }
}

/** A URL without its password. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
