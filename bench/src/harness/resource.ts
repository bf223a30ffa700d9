import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { now } from '../lib/clock.ts';
import type { ResourceEvent } from './history.ts';

/**
 * The protected resource every leader writes to: a loopback HTTP server in the harness
 * process that enforces fencing — a write whose token is lower than one already accepted is
 * rejected; the same token may write again (one term writes many times).
 *
 * Why here and not in the backend: it must stay reachable when the backend is not (a leader
 * partitioned from Redis by its proxy can still reach the resource — exactly the stale-leader
 * case fencing exists for), and it must be identical for every backend so results compare.
 * It decides writes one at a time, in arrival order, and logs each decision, stamped with
 * the harness clock. `GET /clock` answers that clock, so candidates can measure their offset.
 */
export class ProtectedResource {
  private server: Server | undefined;
  private highest = 0;
  readonly log: ResourceEvent[] = [];
  url = '';

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/clock') {
        // The harness clock, for candidates measuring their offset to it (see measureClockOffset).
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ t: now() }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/write') {
        res.writeHead(404).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        let write: { pid: number; identity: string; token: number; seq: number };
        try {
          write = JSON.parse(body) as typeof write;
          if (!Number.isSafeInteger(write.token) || typeof write.identity !== 'string') throw new Error('bad write');
        } catch {
          res.writeHead(400).end();
          return;
        }
        const accepted = write.token >= this.highest;
        this.log.push({ src: 'resource', ev: 'write', t: now(), pid: write.pid, identity: write.identity, token: write.token, seq: write.seq, accepted, highest: this.highest });
        if (accepted) this.highest = write.token;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted, highest: this.highest }));
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    const address = server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/write`;
    return this.url;
  }

  get highestToken(): number {
    return this.highest;
  }

  get accepted(): number {
    return this.log.filter((e) => e.accepted).length;
  }

  get rejected(): number {
    return this.log.filter((e) => !e.accepted).length;
  }

  /** The pid of the last accepted writer. */
  get lastWriter(): number | undefined {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i]!.accepted) return this.log[i]!.pid;
    return undefined;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
