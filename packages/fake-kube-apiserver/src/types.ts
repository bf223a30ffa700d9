// The public API of the fake apiserver.

import type { KubeConfig } from '@kubernetes/client-node';
import type { RbacRule, TokenSpec } from './rbac.ts';

export type { RbacRule, TokenSpec };

export interface FakeApiServerOptions {
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Bearer tokens. Default: one generated admin token. An admin token is always added if none is given. */
  tokens?: Record<string, { user: string; rules: RbacRule[]; groups?: string[] } | 'admin'>;
  /** Where to write the kubeconfig file (default: a file in a fresh temp directory, removed by stop()). */
  kubeconfigPath?: string;
  /**
   * Requests without credentials are served as `system:anonymous` (allowed only /version and the
   * health endpoints, 403 elsewhere), as kube-apiserver does by default. false: they get 401.
   */
  anonymousAuth?: boolean;
  /** How many change events are kept for watch resumption (default 1000); older ones answer 410. */
  watchHistorySize?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 60000 ms, as the real server). */
  bookmarkIntervalMs?: number;
  /**
   * Creating an object in a namespace that does not exist creates the namespace (a convenience
   * for demos). Default false: a 404 `namespaces "x" not found`, as on a real server.
   */
  autoCreateNamespaces?: boolean;
  /**
   * @deprecated Namespaces are strict by default now; `strictNamespaces: false` is the same as
   * `autoCreateNamespaces: true`.
   */
  strictNamespaces?: boolean;
  /** The version /version reports (default v1.33.0). */
  kubernetesVersion?: string;
}

/** A request as fault targeting sees it. */
export interface FaultRequestInfo {
  method: string;
  path: string;
  /** get, list, watch, create, update, patch, delete, deletecollection, or the HTTP verb for non-resource paths. */
  verb: string;
  /** Plural resource (`leases`), '' for non-resource paths. */
  resource: string;
  apiGroup: string;
  namespace: string;
  name: string;
  user: string;
  userAgent: string;
}

/** Which requests faults apply to; every given field must match. Arrays mean any of. */
export interface FaultTarget {
  verb?: string | string[];
  resource?: string | string[];
  namespace?: string;
  name?: string;
  user?: string;
  userAgent?: string | RegExp;
}

export interface FaultHandle {
  /** Added to every (targeted) response. */
  setLatency(ms: number): void;
  /** A fraction (0..1) of (targeted) requests fail with this status (default 503; 429 carries Retry-After). */
  setErrorRate(rate: number, status?: 500 | 503 | 429, retryAfterSeconds?: number): void;
  /** The next `count` (targeted) requests fail with this status, deterministically. */
  failNext(count: number, status?: 500 | 503 | 429, retryAfterSeconds?: number): void;
  /** Accept requests, never answer; turning it off destroys the held requests' connections. */
  setBlackhole(on: boolean): void;
  /** End every open watch stream (cleanly, as a server-side watch timeout does). */
  dropWatches(): void;
  /** Destroy every open socket (requests in flight and idle keep-alive connections). */
  closeConnections(): void;
  /** Restrict latency, errors and blackholing to matching requests; null/undefined: all requests. */
  setTarget(target?: FaultTarget | ((req: FaultRequestInfo) => boolean) | null): void;
  /** No faults, no target. Held (blackholed) requests are destroyed. */
  reset(): void;
}

/** One served request, for assertions. */
export interface RequestRecord extends FaultRequestInfo {
  code: number;
  /**
   * The object name authorization saw: the URL's name, or for a list or watch the name a
   * `metadata.name=` field selector pins (what a Role's resourceNames are checked against).
   */
  authorizedName: string;
  /** Set on requests that were answered by injected faults. */
  injected?: 'error' | 'blackhole';
}

export interface FakeApiServer {
  /** http://127.0.0.1:PORT (the same port also speaks TLS: see httpsUrl). */
  url: string;
  /** https://127.0.0.1:PORT, with the self-signed certificate `caCertificate`. */
  httpsUrl: string;
  /** PEM of the server's self-signed certificate (its own CA). */
  caCertificate: string;
  port: number;
  /** A @kubernetes/client-node KubeConfig for the admin token (https, verifying caCertificate). */
  kubeConfig: KubeConfig;
  /**
   * Same server, another token (one of `tokens`, or any string to get 401s). https by default;
   * `{ https: false }` gives plain http (with skipTLSVerify, which client-node demands for http).
   */
  kubeConfigFor(token: string, opts?: { https?: boolean }): KubeConfig;
  /**
   * A file kubectl and client-node can load (admin). It points at httpsUrl with the CA embedded,
   * because kubectl only sends kubeconfig credentials over TLS.
   */
  kubeconfigPath: string;
  /** Writes a kubeconfig (https) for another token and returns its path. */
  writeKubeconfig(token: string, path?: string): string;
  adminToken: string;
  faults: FaultHandle;
  /** Settles everything: sockets, watches, timers; removes a temp kubeconfig. */
  stop(): Promise<void>;
  /** Stop and listen again on the SAME port; keepState (default true) keeps objects and revision. */
  restart(opts?: { keepState?: boolean }): Promise<void>;

  // Direct state access for tests (no auth, no faults, no watch noise beyond the real change).
  /** The stored object as the API would serve it (a copy), or undefined. */
  getObject(resource: string, namespace: string, name: string, apiGroup?: string): Record<string, unknown> | undefined;
  /** Objects of a resource, in one namespace or all. */
  listObjects(resource: string, namespace?: string, apiGroup?: string): Record<string, unknown>[];
  /** Creates or replaces an object through the normal validation path (as admin). */
  putObject(obj: Record<string, unknown>): Record<string, unknown>;
  /** Deletes an object (as admin); true when it existed. */
  deleteObject(resource: string, namespace: string, name: string, apiGroup?: string): boolean;
  /** The current global resourceVersion. */
  resourceVersion(): number;
  /** Open watch streams right now. */
  openWatchCount(): number;
  /** The last (up to 1000) requests served, oldest first. */
  requests(): RequestRecord[];
  /**
   * Resolves with the first request that matches once answered (from now on, or already logged
   * when `includePast`), or as soon as it arrives with `arrived: true` (its code is then 0, and
   * it may still be delayed or held by faults); rejects after `timeoutMs` (default 5000).
   */
  waitForRequest(
    match: (r: RequestRecord) => boolean,
    opts?: { timeoutMs?: number; includePast?: boolean; arrived?: boolean },
  ): Promise<RequestRecord>;
  clearRequests(): void;
}
