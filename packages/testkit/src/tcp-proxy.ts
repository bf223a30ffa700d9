import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * What the proxy does to traffic:
 * - `pass`: forwards both ways (after `delayMs`, if set);
 * - `cut`: every open connection is reset at once and new ones are reset on accept, as when
 *   a firewall rejects the peer;
 * - `hang`: a partition. Nothing is delivered in either direction and nothing is read (TCP
 *   flow control backs up, as with lost packets that are retransmitted later); closes are
 *   not propagated either, so the server does not learn that a client gave up. New
 *   connections are accepted but not connected onwards. `heal()` delivers what was held.
 */
export type ProxyMode = 'pass' | 'cut' | 'hang';

export interface ProxyTarget {
  host: string;
  port: number;
}

interface Chunk {
  at: number;
  data: Buffer;
}

/** One direction of a connection: a queue that delivers chunks in order, each no earlier than its `at`. */
class Lane {
  private readonly queue: Chunk[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly to: () => Socket | undefined;
  private readonly held: () => boolean;

  constructor(to: () => Socket | undefined, held: () => boolean) {
    this.to = to;
    this.held = held;
  }

  push(data: Buffer, delayMs: number): void {
    const last = this.queue[this.queue.length - 1]?.at ?? 0;
    this.queue.push({ at: Math.max(last, performance.now() + delayMs), data });
    this.pump();
  }

  get pending(): number {
    return this.queue.length;
  }

  pump(): void {
    if (this.timer !== undefined || this.held()) return;
    const target = this.to();
    if (target === undefined) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.at - performance.now();
      if (wait > 0.5) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      if (!target.destroyed) target.write(head.data);
    }
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

class Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  readonly up: Lane;
  readonly down: Lane;
  /** A close that happened during a partition, propagated on heal. */
  pendingClose = false;
  closed = false;

  constructor(client: Socket, held: () => boolean) {
    this.client = client;
    this.up = new Lane(() => this.upstream, held);
    this.down = new Lane(() => this.client, held);
  }

  /** Closes both sides: with a TCP reset when `reset`, else with a normal close. */
  destroy(reset: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.up.clear();
    this.down.clear();
    if (reset) {
      this.client.resetAndDestroy();
      if (this.upstream?.readyState === 'open') this.upstream.resetAndDestroy();
      else this.upstream?.destroy();
    } else {
      this.client.destroy();
      this.upstream?.destroy();
    }
  }
}

/** Counters of a {@link TcpProxy}, as the traffic arrives at the proxy. */
export interface ProxyStats {
  accepted: number;
  cutConnections: number;
  bytesUp: number;
  bytesDown: number;
  /** Reads from clients: TCP segments as they arrive, about one per request (pipelined requests may share one). */
  readsUp: number;
  readsDown: number;
}

/**
 * A controllable loopback TCP proxy between clients and a backend, for fault tests and the
 * safety harness:
 * - {@link TcpProxy.cut}: reset every connection and refuse new ones until {@link TcpProxy.heal};
 * - {@link TcpProxy.reset}: reset every open connection once, keep accepting new ones;
 * - {@link TcpProxy.hang}: a silent partition (nothing flows, nothing closes) until heal;
 * - {@link TcpProxy.setDelay}: added one-way latency, order kept.
 */
export class TcpProxy {
  readonly target: ProxyTarget;
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private modeValue: ProxyMode = 'pass';
  private delay = 0;
  private listenPort = 0;
  readonly stats: ProxyStats = { accepted: 0, cutConnections: 0, bytesUp: 0, bytesDown: 0, readsUp: 0, readsDown: 0 };

  constructor(target: ProxyTarget) {
    this.target = target;
  }

  get port(): number {
    return this.listenPort;
  }

  get mode(): ProxyMode {
    return this.modeValue;
  }

  get delayMs(): number {
    return this.delay;
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  /** A proxy to `target` (a port on 127.0.0.1, or host and port), already listening on a free loopback port. */
  static async start(target: ProxyTarget | number): Promise<TcpProxy> {
    const proxy = new TcpProxy(typeof target === 'number' ? { host: '127.0.0.1', port: target } : target);
    await proxy.start();
    return proxy;
  }

  /** `http://127.0.0.1:<port>`, for HTTP clients (etcd, the kube API). */
  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  /** Client connections accepted so far. */
  get accepted(): number {
    return this.stats.accepted;
  }

  /** Starts listening on 127.0.0.1 (`port` 0 = any free port). @returns the port. */
  async start(port = 0): Promise<number> {
    const server = createServer({ noDelay: true }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address();
    this.listenPort = typeof address === 'object' && address ? address.port : port;
    return this.listenPort;
  }

  /** Every chunk, both ways, is delivered `ms` later than it arrived (order kept). */
  setDelay(ms: number): void {
    this.delay = Math.max(0, ms);
  }

  /** Resets every connection and refuses new ones until {@link heal}. */
  cut(): void {
    this.modeValue = 'cut';
    this.reset();
  }

  /** Resets every open connection (both sides see ECONNRESET); new connections are accepted as before. */
  reset(): void {
    for (const pair of [...this.pairs]) {
      this.stats.cutConnections++;
      this.remove(pair, true);
    }
  }

  /** Partitions: nothing flows and nothing closes until {@link heal}; calls hang instead of failing. */
  hang(): void {
    this.modeValue = 'hang';
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  /** Back to forwarding, without delay; held data and closes are delivered now. */
  heal(): void {
    const wasHung = this.modeValue === 'hang';
    this.modeValue = 'pass';
    this.delay = 0;
    if (!wasHung) return;
    for (const pair of [...this.pairs]) {
      if (pair.pendingClose) {
        // The peer that closed during the partition: deliver what was held, then the close.
        pair.up.pump();
        pair.down.pump();
        this.remove(pair);
        continue;
      }
      if (pair.upstream === undefined) this.connectUpstream(pair);
      pair.client.resume();
      pair.upstream?.resume();
      pair.up.pump();
      pair.down.pump();
    }
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const pair of [...this.pairs]) this.remove(pair);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.accepted++;
    if (this.modeValue === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const pair = new Pair(client, () => this.modeValue === 'hang');
    this.pairs.add(pair);
    client.setNoDelay(true);
    client.on('data', (data: Buffer) => {
      if (this.modeValue === 'cut') return;
      this.stats.readsUp++;
      this.stats.bytesUp += data.length;
      pair.up.push(data, this.delay);
    });
    const onClientGone = (): void => this.gone(pair);
    client.on('error', onClientGone);
    client.on('close', onClientGone);
    client.on('end', onClientGone);
    if (this.modeValue === 'hang') client.pause();
    else this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    if (pair.upstream || pair.closed) return;
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    pair.upstream = upstream;
    upstream.on('connect', () => pair.up.pump());
    upstream.on('data', (data: Buffer) => {
      if (this.modeValue === 'cut') return;
      this.stats.readsDown++;
      this.stats.bytesDown += data.length;
      pair.down.push(data, this.delay);
    });
    const onUpstreamGone = (): void => this.gone(pair);
    upstream.on('error', onUpstreamGone);
    upstream.on('close', onUpstreamGone);
    upstream.on('end', onUpstreamGone);
    if (this.modeValue === 'hang') upstream.pause();
  }

  /** One side closed: propagate at once, or on heal when partitioned. */
  private gone(pair: Pair): void {
    if (pair.closed) return;
    if (this.modeValue === 'hang') {
      pair.pendingClose = true;
      return;
    }
    // Let queued (delayed) data reach the other side before closing it.
    if (pair.up.pending === 0 && pair.down.pending === 0) {
      this.remove(pair);
      return;
    }
    setTimeout(() => this.remove(pair), this.delay + 5);
  }

  private remove(pair: Pair, reset = false): void {
    this.pairs.delete(pair);
    pair.destroy(reset);
  }
}
