import { AbortedError, ConfigError, systemClock } from '@baton/core';
import type { Clock } from '@baton/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { Agent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeClientOptions } from './kube-object.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { RequestPriority } from './rate-limiter.ts';

/** A Kubernetes `Status` object, as the API server sends with a failure. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string };
  code?: number;
}

/** The API server answered with an error status. `code` is the HTTP status. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly status: KubeStatus;

  constructor(code: number, status: KubeStatus) {
    super(status.message ?? `HTTP ${code}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.status = status;
  }
}

/** No HTTP answer at all: refused, reset, DNS, TLS. `server` is the API server's URL. */
export class KubeNetworkError extends Error {
  readonly server: string;
  readonly errno: string | undefined;

  constructor(server: string, cause: Error & { code?: string }) {
    super(cause.message, { cause });
    this.name = 'KubeNetworkError';
    this.server = server;
    this.errno = cause.code;
  }
}

/**
 * Agents for one API server and one TLS setup: a single socket pool. Node would otherwise
 * recompute the pool's key per request by stringifying the CA and client certificate.
 */
class OneServerHttpsAgent extends HttpsAgent {
  override getName(): string {
    return 'kube-apiserver';
  }
}
class OneServerHttpAgent extends HttpAgent {
  override getName(): string {
    return 'kube-apiserver';
  }
}

/** How long the authorization header is reused before the KubeConfig is asked again. */
const AUTH_TTL_MS = 1_000;
/** client-go's watch timeout: 5 to 10 minutes, so a fleet's watches do not end together. */
const MIN_WATCH_TIMEOUT_S = 300;

/**
 * One HTTP client per factory: every lock's reads and writes share a keep-alive agent with a
 * bounded socket pool and one rate limiter; watches are long requests of their own. Auth
 * comes from the KubeConfig (tokens, client certificates, exec plugins, in-cluster) and is
 * re-read every second, so rotated tokens are picked up.
 */
export class KubeClient {
  /** The API server's base URL, as named in errors. */
  readonly server: string;
  readonly clock: Clock;
  private readonly kubeConfig: KubeConfig;
  private readonly limiter: RateLimiter;
  private readonly agent: Agent;
  private readonly watchAgent: Agent;
  private readonly ownsAgents: boolean;
  private readonly send: typeof httpsRequest;
  private auth: { at: number; options: Promise<RequestOptions> } | undefined;
  private closed = false;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}, clock: Clock = systemClock) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster?.server) throw new ConfigError('kubeConfig', 'the current context names no cluster with a server URL');
    const secure = !cluster.server.startsWith('http:');
    // Plain http (kubectl proxy, a local test server) is allowed, as kubectl allows it.
    this.server = cluster.server.replace(/\/+$/, '');
    this.clock = clock;
    this.kubeConfig = kubeConfig;
    const maxSockets = options.maxConnections ?? 6;
    if (!Number.isInteger(maxSockets) || maxSockets < 1) throw new ConfigError('maxConnections', 'must be a positive integer');
    // Each watch stream holds a connection for as long as it runs (one per namespace and kind,
    // or one per lock where RBAC allows only named watches): behind a socket limit on your
    // agent they would starve the requests — renewals included — once they filled it.
    if (options.agent !== undefined && Number.isFinite(options.agent.maxSockets)) {
      throw new ConfigError(
        'agent',
        `must not limit sockets (maxSockets ${options.agent.maxSockets}): watch streams hold one each and would starve requests; bound requests with maxConnections instead`,
      );
    }
    const agentProtocol = (options.agent as { protocol?: string } | undefined)?.protocol;
    if (agentProtocol !== undefined && agentProtocol !== (secure ? 'https:' : 'http:')) {
      throw new ConfigError('agent', `is an agent for ${agentProtocol.slice(0, -1)}, the API server at ${this.server} needs ${secure ? 'https' : 'http'}`);
    }
    this.limiter = new RateLimiter(options.qps ?? 1000, options.burst ?? 200, clock, maxSockets);
    this.send = secure ? httpsRequest : (httpRequest as unknown as typeof httpsRequest);
    this.ownsAgents = options.agent === undefined && !cluster.proxyUrl;
    if (options.agent) {
      this.agent = this.watchAgent = options.agent;
    } else if (cluster.proxyUrl) {
      // client-node builds the proxy agent (per KubeConfig, cached): `undefined` here means "use it".
      this.agent = this.watchAgent = undefined as unknown as Agent;
    } else {
      const Kind = secure ? OneServerHttpsAgent : OneServerHttpAgent;
      this.agent = new Kind({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
      this.watchAgent = new Kind({ keepAlive: true, keepAliveMsecs: 30_000 });
    }
  }

  /**
   * One request, JSON in and out, after its turn at the rate limiter.
   * @throws KubeApiError for an error status, KubeNetworkError without an answer, the
   * signal's reason once it aborts.
   */
  async request<T>(method: string, path: string, options: { body?: unknown; signal?: AbortSignal; priority: RequestPriority }): Promise<T> {
    const { signal, priority } = options;
    const done = await this.limiter.take(priority, signal);
    try {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const response = await this.open(method, path, { signal, agent: this.agent, body });
      const text = await readBody(response, signal);
      const code = response.statusCode ?? 0;
      if (code >= 400) throw new KubeApiError(code, parseStatus(code, text));
      return JSON.parse(text) as T;
    } finally {
      done();
    }
  }

  /**
   * A watch request on its own connection; the response streams newline-delimited events.
   * `timeoutSeconds` is spread like client-go's so a fleet's watches do not end together.
   */
  async watch(path: string, query: URLSearchParams, signal: AbortSignal): Promise<IncomingMessage> {
    query.set('watch', 'true');
    query.set('timeoutSeconds', String(Math.floor(MIN_WATCH_TIMEOUT_S * (1 + Math.random()))));
    const response = await this.open('GET', `${path}?${query}`, { signal, agent: this.watchAgent });
    const code = response.statusCode ?? 0;
    if (code >= 400) throw new KubeApiError(code, parseStatus(code, await readBody(response, signal)));
    response.socket?.setKeepAlive(true, 30_000);
    return response;
  }

  /** Drops waiting requests and closes the sockets this client opened (not an agent passed in). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.limiter.close(new AbortedError('the lock factory was closed'));
    if (this.ownsAgents) {
      this.agent.destroy();
      this.watchAgent.destroy();
    }
  }

  private async open(method: string, path: string, options: { signal: AbortSignal | undefined; agent: Agent | undefined; body?: string }): Promise<IncomingMessage> {
    const { signal, body } = options;
    if (this.closed) throw new AbortedError('the lock factory was closed');
    const auth = await this.authOptions();
    signal?.throwIfAborted();
    const headers: OutgoingHttpHeaders = { ...(auth.headers as OutgoingHttpHeaders | undefined), Accept: 'application/json' };
    if (auth.auth) headers.Authorization = `Basic ${Buffer.from(auth.auth).toString('base64')}`;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = auth;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = this.send(`${this.server}${path}`, {
        method,
        headers,
        agent: options.agent ?? auth.agent,
        // With our own agent these are part of its socket key; with the user's they apply per request.
        ca,
        cert,
        key,
        pfx,
        passphrase,
        ...(rejectUnauthorized !== undefined && { rejectUnauthorized }),
        ...(servername !== undefined && { servername }),
        signal,
      });
      request.once('response', resolve);
      request.once('error', (error: Error & { code?: string }) => {
        if (signal?.aborted) reject(signal.reason ?? new AbortedError());
        else reject(new KubeNetworkError(this.server, error));
      });
      request.end(body);
    });
  }

  private authOptions(): Promise<RequestOptions> {
    const now = this.clock.now();
    if (this.auth === undefined || now - this.auth.at > AUTH_TTL_MS) {
      const options: RequestOptions = {};
      const pending = this.kubeConfig.applyToHTTPSOptions(options).then(() => options);
      this.auth = { at: now, options: pending };
      // A failure (an exec plugin that exits non-zero) is retried by the next request.
      pending.catch(() => {
        if (this.auth?.options === pending) this.auth = undefined;
      });
    }
    return this.auth.options;
  }
}

function readBody(response: IncomingMessage, signal: AbortSignal | undefined): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', (error) => reject(signal?.aborted ? (signal.reason ?? error) : error));
    response.once('aborted', () => reject(signal?.reason ?? new Error('the response was cut off')));
  });
}

function parseStatus(code: number, text: string): KubeStatus {
  try {
    const parsed = JSON.parse(text) as KubeStatus;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // not JSON: a proxy's page, say
  }
  return { code, message: text.trim().slice(0, 300) || `HTTP ${code}` };
}
