// startFakeApiServer: the node:http server, its lifecycle (stop, restart on the same port with or
// without state), the kubeconfig it writes, fault wiring and direct state access for tests.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { selfSignedCertificate, type ServingCertificate } from './certificate.ts';
import { versionInfo } from './discovery.ts';
import { Faults } from './faults.ts';
import { ApiHandler } from './handler.ts';
import { makeKubeConfig, writeKubeconfigFile } from './kubeconfig.ts';
import { groupVersion, KINDS, type KindDef, type Obj } from './kinds/index.ts';
import { userFromSpec, type UserInfo } from './rbac.ts';
import { defaultWriteOptions, Registry } from './registry.ts';
import { ApiError } from './status.ts';
import { Store } from './store.ts';
import type { FakeApiServer, FakeApiServerOptions, RequestRecord } from './types.ts';
import { WatchHub } from './watch-hub.ts';

const REQUEST_LOG_SIZE = 1000;

function findDef(resource: string, apiGroup?: string): KindDef {
  const def = KINDS.find((k) => k.resource === resource && (apiGroup === undefined || k.group === apiGroup));
  if (!def) throw new Error(`fake-kube-apiserver: resource ${resource}${apiGroup ? `.${apiGroup}` : ''} is not served`);
  return def;
}

const TLS_HANDSHAKE = 0x16;

/** `autoCreateNamespaces`, or the older `strictNamespaces: false`; by default namespaces are strict. */
function autoCreateNamespaces(opts: FakeApiServerOptions): boolean {
  return opts.autoCreateNamespaces ?? opts.strictNamespaces === false;
}

class FakeApiServerImpl implements FakeApiServer {
  url = '';
  httpsUrl = '';
  port = 0;
  kubeConfig!: KubeConfig;
  kubeconfigPath: string;
  readonly adminToken: string;
  readonly faults: Faults;

  private readonly host: string;
  private readonly opts: FakeApiServerOptions;
  private readonly tokens = new Map<string, UserInfo>();
  private readonly ownedDir: string | undefined;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Every open watch, indexed for fan-out; it outlives a restart's new store. */
  private readonly watchHub = new WatchHub();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: (ok: boolean) => void }>();
  private abort = new AbortController();
  private store: Store;
  private registry: Registry;
  /** The last REQUEST_LOG_SIZE requests, a ring: `logNext` is the slot the next one takes. */
  private log: RequestRecord[] = [];
  private logNext = 0;
  private readonly requestListeners = new Set<(request: RequestRecord) => void>();
  private readonly arrivalListeners = new Set<(request: RequestRecord) => void>();
  private readonly handler: ApiHandler;
  private readonly certificate: ServingCertificate;

  get caCertificate(): string {
    return this.certificate.certPem;
  }

  constructor(opts: FakeApiServerOptions) {
    this.opts = opts;
    this.host = opts.host ?? '127.0.0.1';
    let admin: string | undefined;
    for (const [token, spec] of Object.entries(opts.tokens ?? {})) {
      this.tokens.set(token, userFromSpec(spec));
      if (spec === 'admin' && admin === undefined) admin = token;
    }
    if (admin === undefined) {
      // Hex: a token starting with '-' would read as an option on a command line (`--token -x…`).
      admin = randomBytes(24).toString('hex');
      this.tokens.set(admin, userFromSpec('admin'));
    }
    this.adminToken = admin;
    this.certificate = selfSignedCertificate(['127.0.0.1', '::1', 'localhost', this.host]);
    if (opts.kubeconfigPath) this.kubeconfigPath = opts.kubeconfigPath;
    else {
      this.ownedDir = mkdtempSync(join(tmpdir(), 'fake-kube-apiserver-'));
      this.kubeconfigPath = join(this.ownedDir, 'kubeconfig');
    }
    this.store = this.newStore();
    this.registry = new Registry(this.store, { autoCreateNamespaces: autoCreateNamespaces(opts) });
    this.registry.seedDefaultNamespaces();
    this.faults = new Faults({
      dropWatches: () => this.watchHub.endAll(),
      closeConnections: () => {
        for (const s of [...this.sockets]) s.destroy();
      },
    });
    this.handler = new ApiHandler({
      store: () => this.store,
      registry: () => this.registry,
      tokens: this.tokens,
      anonymousAuth: opts.anonymousAuth ?? true,
      faults: this.faults,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      version: versionInfo(opts.kubernetesVersion ?? 'v1.33.0'),
      serverAddress: () => `${this.host}:${this.port}`,
      watchHub: this.watchHub,
      sleep: (ms) => this.sleep(ms),
      signal: () => this.abort.signal,
      record: (request) => {
        this.log[this.logNext] = request;
        this.logNext = (this.logNext + 1) % REQUEST_LOG_SIZE;
        if (this.requestListeners.size > 0) for (const listener of [...this.requestListeners]) listener(request);
      },
      arrived: (request) => {
        for (const listener of [...this.arrivalListeners]) listener(request);
      },
    });
  }

  /** A store whose changes reach the open watches. */
  private newStore(): Store {
    const store = new Store(this.opts.watchHistorySize ?? 1000);
    store.subscribe((change) => this.watchHub.publish(change));
    return store;
  }

  private sleep(ms: number): Promise<boolean> {
    if (this.abort.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve(true);
        }, ms),
        resolve,
      };
      this.sleepers.add(entry);
    });
  }

  /**
   * One port, two protocols: a connection whose first byte starts a TLS handshake goes to the
   * HTTPS server, any other to the plain HTTP one.
   */
  async listen(port: number): Promise<void> {
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.handler.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    };
    const http = createHttpServer(onRequest);
    const https = createHttpsServer({ cert: this.certificate.certPem, key: this.certificate.keyPem }, onRequest);
    for (const srv of [http, https]) srv.on('clientError', (_err, socket) => socket.destroy());
    https.on('tlsClientError', (_err, socket) => socket.destroy());
    const server = createNetServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('error', () => socket.destroy());
      socket.once('data', (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        (first[0] === TLS_HANDSHAKE ? https : http).emit('connection', socket);
        process.nextTick(() => socket.resume());
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
    const hostForUrl = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.url = `http://${hostForUrl}:${this.port}`;
    this.httpsUrl = `https://${hostForUrl}:${this.port}`;
    this.kubeConfig = makeKubeConfig(this.httpsUrl, 'admin', this.adminToken, this.certificate.certPem);
    writeKubeconfigFile(this.kubeconfigPath, this.httpsUrl, 'admin', this.adminToken, this.certificate.certPem);
  }

  private async shutdown(): Promise<void> {
    this.abort.abort();
    for (const s of [...this.sleepers]) {
      clearTimeout(s.timer);
      s.resolve(false);
    }
    this.sleepers.clear();
    this.watchHub.endAll();
    this.faults.releaseHeld();
    const server = this.server;
    this.server = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of [...this.sockets]) s.destroy();
      await closed;
    }
    this.sockets.clear();
    this.abort = new AbortController();
  }

  async stop(): Promise<void> {
    await this.shutdown();
    if (this.ownedDir) rmSync(this.ownedDir, { recursive: true, force: true });
  }

  async restart(opts: { keepState?: boolean } = {}): Promise<void> {
    await this.shutdown();
    if (opts.keepState === false) {
      this.store = this.newStore();
      this.registry = new Registry(this.store, { autoCreateNamespaces: autoCreateNamespaces(this.opts) });
      this.registry.seedDefaultNamespaces();
    }
    await this.listen(this.port);
  }

  kubeConfigFor(token: string, opts: { https?: boolean } = {}): KubeConfig {
    const user = this.tokens.get(token)?.name ?? 'unknown';
    return opts.https === false
      ? makeKubeConfig(this.url, user, token)
      : makeKubeConfig(this.httpsUrl, user, token, this.certificate.certPem);
  }

  writeKubeconfig(token: string, path?: string): string {
    const user = this.tokens.get(token)?.name ?? 'unknown';
    const target = path ?? join(this.ownedDir ?? mkdtempSync(join(tmpdir(), 'fake-kube-apiserver-')), `kubeconfig-${user.replace(/[^a-zA-Z0-9_.-]/g, '_')}`);
    writeKubeconfigFile(target, this.httpsUrl, user, token, this.certificate.certPem);
    return target;
  }

  getObject(resource: string, namespace: string, name: string, apiGroup?: string): Obj | undefined {
    const def = findDef(resource, apiGroup);
    const stored = this.registry.getStored(def, namespace, name);
    return stored ? this.registry.external(def, stored) : undefined;
  }

  listObjects(resource: string, namespace?: string, apiGroup?: string): Obj[] {
    return this.registry.list(findDef(resource, apiGroup), namespace).map((o) => structuredClone(o));
  }

  putObject(obj: Obj): Obj {
    const def = KINDS.find((k) => groupVersion(k) === obj.apiVersion && k.kind === obj.kind);
    if (!def) throw new Error(`fake-kube-apiserver: ${String(obj.apiVersion)} ${String(obj.kind)} is not served`);
    const meta = (obj.metadata ?? {}) as Obj;
    const ns = def.namespaced ? String(meta.namespace ?? 'default') : '';
    const name = String(meta.name ?? '');
    try {
      if (name && this.registry.getStored(def, ns, name)) {
        const body = structuredClone(obj);
        delete (body.metadata as Obj).resourceVersion;
        if (!def.allowUnconditionalUpdate) {
          (body.metadata as Obj).resourceVersion = (this.registry.getStored(def, ns, name)!.metadata as Obj).resourceVersion;
        }
        return structuredClone(this.registry.update(def, ns, name, body, defaultWriteOptions()).obj);
      }
      return structuredClone(this.registry.create(def, ns, obj, defaultWriteOptions()));
    } catch (e) {
      if (e instanceof ApiError) throw new Error(`fake-kube-apiserver: ${e.status.message ?? e.message}`, { cause: e });
      throw e;
    }
  }

  deleteObject(resource: string, namespace: string, name: string, apiGroup?: string): boolean {
    const def = findDef(resource, apiGroup);
    if (!this.registry.getStored(def, namespace, name)) return false;
    this.registry.delete(def, namespace, name, {}, defaultWriteOptions());
    return true;
  }

  resourceVersion(): number {
    return this.store.resourceVersion;
  }

  openWatchCount(): number {
    return this.watchHub.size;
  }

  /** Oldest first: once the ring is full, the oldest entry is the one `logNext` points at. */
  private orderedLog(): RequestRecord[] {
    if (this.log.length < REQUEST_LOG_SIZE) return [...this.log];
    return [...this.log.slice(this.logNext), ...this.log.slice(0, this.logNext)];
  }

  requests(): RequestRecord[] {
    return this.orderedLog();
  }

  clearRequests(): void {
    this.log = [];
    this.logNext = 0;
  }

  waitForRequest(
    match: (r: RequestRecord) => boolean,
    opts: { timeoutMs?: number; includePast?: boolean; arrived?: boolean } = {},
  ): Promise<RequestRecord> {
    if (opts.includePast && !opts.arrived) {
      const past = this.orderedLog().find(match);
      if (past) return Promise.resolve(past);
    }
    const listeners = opts.arrived ? this.arrivalListeners : this.requestListeners;
    return new Promise((resolve, reject) => {
      const listener = (r: RequestRecord): void => {
        if (!match(r)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(r);
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error('fake-kube-apiserver: no matching request before the deadline'));
      }, opts.timeoutMs ?? 5000);
      listeners.add(listener);
    });
  }
}

/** Starts a fake kube-apiserver; `stop()` it when done. */
export async function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const server = new FakeApiServerImpl(opts);
  try {
    await server.listen(opts.port ?? 0);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}
