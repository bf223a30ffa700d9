import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HttpFence } from '@baton/fencing/http';
import { now } from '../lib/clock.ts';
import type { ResourceEvent } from './history.ts';

/** What a writer says about itself in the body of a write (its token travels in the `Fencing-Token` header). */
export interface WriteBody {
  pid: number;
  identity: string;
  token: number;
  seq: number;
}

/** The resource's path: one fenced resource for the whole run. */
export const WRITE_PATH = '/write';

/**
 * The protected resource every leader writes to: a loopback HTTP server in the harness
 * process whose writes go through `@baton/fencing`'s {@link HttpFence} — the handler wrapper
 * users put in front of their own resource. The fence admits a write whose `Fencing-Token` is
 * at least the highest admitted (one term writes many times), answers 409 to a smaller one,
 * and handles one write at a time, so what it admits is decided in arrival order.
 *
 * Why here and not in the backend: it must stay reachable when the backend is not (a leader
 * partitioned from Redis by its proxy can still reach the resource — exactly the stale-leader
 * case fencing exists for), and it must be identical for every backend so results compare.
 * Every decision is logged, stamped with the harness clock: an admitted write when the
 * fenced handler runs (the fence's decision point), a refused one when the fence's 409 has
 * been sent. `GET /clock` answers that clock, so candidates can measure their offset.
 */
export class ProtectedResource {
  private server: Server | undefined;
  private readonly fence = new HttpFence();
  /** The body of each request on its way through the fence (the fence reads only the header). */
  private readonly bodies = new WeakMap<IncomingMessage, WriteBody>();
  private lastAccepted = 0;
  readonly log: ResourceEvent[] = [];
  url = '';

  private readonly fenced = this.fence.handler((request, response, token) => {
    const write = this.bodies.get(request)!;
    this.log.push({ src: 'resource', ev: 'write', t: now(), pid: write.pid, identity: write.identity, token: token!, seq: write.seq, accepted: true, highest: this.lastAccepted });
    this.lastAccepted = token!;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true }));
  });

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/clock') {
        // The harness clock, for candidates measuring their offset to it (see measureClockOffset).
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ t: now() }));
        return;
      }
      if (req.method !== 'POST' || req.url !== WRITE_PATH) {
        res.writeHead(404).end();
        return;
      }
      void this.receive(req, res);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    const address = server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}${WRITE_PATH}`;
    return this.url;
  }

  /** Reads the body, then hands the request to the fence; logs the fence's refusals. */
  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    req.setEncoding('utf8');
    for await (const chunk of req) body += chunk as string;
    let write: WriteBody;
    try {
      write = JSON.parse(body) as WriteBody;
      if (!Number.isSafeInteger(write.token) || typeof write.identity !== 'string' || String(write.token) !== req.headers['fencing-token']) throw new Error('bad write');
    } catch {
      res.writeHead(400).end();
      return;
    }
    this.bodies.set(req, write);
    res.once('finish', () => {
      if (res.statusCode !== 409) return;
      this.log.push({ src: 'resource', ev: 'write', t: now(), pid: write.pid, identity: write.identity, token: write.token, seq: write.seq, accepted: false, highest: this.fence.guard.highestToken(WRITE_PATH) });
    });
    this.fenced(req, res);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
