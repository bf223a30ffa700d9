/**
 * A tiny TCP proxy for fault tests. `partition()` stops traffic both ways without closing
 * anything, like a network that silently drops packets: bytes and closes are held back and
 * delivered in order on `heal()`, as TCP retransmission would deliver them. `cut()` resets
 * every connection at once.
 */
import net from 'node:net';

type Item = Buffer | 'end';

interface Direction {
  from: net.Socket;
  to: net.Socket;
  held: Item[];
}

export class TcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly directions = new Set<Direction>();
  private partitioned = false;
  /** How many client connections were accepted so far. */
  accepted = 0;

  private constructor(server: net.Server) {
    this.server = server;
  }

  /** Listens on an ephemeral port of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get isPartitioned(): boolean {
    return this.partitioned;
  }

  /** Stops delivering anything in either direction (connections stay open). */
  partition(): void {
    this.partitioned = true;
  }

  /** Delivers everything held back, in order, and forwards again. */
  heal(): void {
    this.partitioned = false;
    for (const direction of this.directions) this.flush(direction);
  }

  /** Resets every connection through the proxy. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    this.accepted++;
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  private pipe(from: net.Socket, to: net.Socket): void {
    const direction: Direction = { from, to, held: [] };
    this.directions.add(direction);
    const push = (item: Item): void => {
      direction.held.push(item);
      if (!this.partitioned) this.flush(direction);
    };
    from.on('data', (chunk: Buffer) => push(chunk));
    from.on('end', () => push('end'));
    // A reset on one side reaches the other side once the network lets it through.
    from.on('close', () => push('end'));
    to.on('close', () => this.directions.delete(direction));
  }

  private flush(direction: Direction): void {
    const { to, held } = direction;
    while (held.length > 0) {
      const item = held.shift()!;
      if (to.destroyed || to.writableEnded) {
        held.length = 0;
        break;
      }
      if (item === 'end') to.end();
      else to.write(item);
    }
  }
}
