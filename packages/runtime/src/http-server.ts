import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonError, type HealthStatus } from '@baton/core';

/** What `GET /leader` answers. `name` is the holder, as the old Kubernetes leader-elector sidecar answered. */
export interface LeaderInfo {
  /** The current holder, or `null` when none is known (released, or not yet read). */
  name: string | null;
  /** This replica's identity. */
  identity: string;
  /** Whether this replica leads. */
  isLeader: boolean;
  /** The lock, as its backend describes it. */
  lock: string;
}

export interface StatusServerOptions {
  host?: string;
  port?: number;
  leader(): LeaderInfo;
  /** `/healthz`: the elector's health check. */
  health(): HealthStatus;
  /** `/readyz`: `true` once started, a reason while not ready. Default: always ready. */
  ready?(): true | string;
  /** `/metrics` serves this registry (prom-client's `Registry` is one). Absent: `/metrics` answers 501. */
  registry?: MetricsSource;
}

/** What `/metrics` serves: prom-client's `Registry`, structurally (prom-client is an optional peer). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** A listening status server. */
export interface StatusServer {
  readonly port: number;
  /** `http://host:port` (with `127.0.0.1` for a wildcard host). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /leader`, `/healthz`, `/readyz` and `/metrics` (Prometheus text).
 * @throws the listen error (e.g. `EADDRINUSE`).
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server = createServer((request, response) => {
    void handle(options, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain', `error: ${error instanceof Error ? error.message : String(error)}\n`);
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new BatonError('HTTP_LISTEN', `cannot serve HTTP on ${host}:${options.port ?? 0}: ${reason}`, { cause: error }));
    });
    server.listen(options.port ?? 0, host, () => {
      server.removeAllListeners('error');
      // Later errors (a failed accept) must not take baton down; clients just see a refused connection.
      server.on('error', () => {});
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: StatusServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(response, 405, 'text/plain', 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/':
    case '/leader':
      send(response, 200, 'application/json', `${JSON.stringify(options.leader())}\n`);
      return;
    case '/healthz': {
      const health = options.health();
      if (health.healthy) send(response, 200, 'text/plain', 'ok\n');
      else send(response, 500, 'text/plain', `unhealthy: ${health.reason}\n`);
      return;
    }
    case '/readyz': {
      const ready = options.ready?.() ?? true;
      if (ready === true) send(response, 200, 'text/plain', 'ok\n');
      else send(response, 503, 'text/plain', `not ready: ${ready}\n`);
      return;
    }
    case '/metrics':
      if (options.registry) send(response, 200, options.registry.contentType, await options.registry.metrics());
      else send(response, 501, 'text/plain', 'no metrics: install prom-client next to @baton/runtime\n');
      return;
    default:
      send(response, 404, 'text/plain', 'not found; try /leader, /healthz, /readyz or /metrics\n');
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
