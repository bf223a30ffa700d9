/**
 * The HTTP fence in front of real servers: node:http, Express and Fastify.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import Fastify from 'fastify';
import { HttpFence, fencingHeaders } from '../src/http.ts';

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function post(url: string, token?: number | string): Promise<{ status: number; body: unknown }> {
  const headers = typeof token === 'number' ? fencingHeaders(token) : token === undefined ? {} : { 'fencing-token': token };
  const response = await fetch(url, { method: 'POST', headers });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('HttpFence on node:http', () => {
  it('admits current tokens, answers 409 to a stale one, 428 without a token and 400 for a garbled one', async () => {
    const writes: number[] = [];
    const fence = new HttpFence();
    const url = await listen(
      createServer(
        fence.handler((_request, response, token) => {
          writes.push(token!);
          response.writeHead(204).end();
        }),
      ),
    );
    expect((await post(`${url}/ledger`, 3)).status).toBe(204);
    expect((await post(`${url}/ledger`, 3)).status).toBe(204);
    expect(await post(`${url}/ledger`, 2)).toEqual({ status: 409, body: { error: 'stale fencing token', resource: '/ledger', token: 2, highest: 3 } });
    expect((await post(`${url}/other`, 1)).status).toBe(204); // per resource (path)
    expect((await post(`${url}/ledger`)).status).toBe(428);
    expect((await post(`${url}/ledger`, '3; drop')).status).toBe(400);
    expect(writes).toEqual([3, 3, 1]);
  });

  /** A server whose handler for token 1 waits until told; `arrived(n)` resolves when the n-th request reached the fence. */
  async function slowFirstWriter(serialize: boolean) {
    const events: string[] = [];
    const arrivals: Array<() => void> = [];
    const arrived = (n: number): Promise<void> => new Promise((resolve) => (arrivals[n] = resolve));
    let count = 0;
    let finishOld!: () => void;
    const oldMayFinish = new Promise<void>((resolve) => (finishOld = resolve));
    const fence = new HttpFence({
      serialize,
      resource: (request) => {
        arrivals[++count]?.();
        return request.url ?? '/';
      },
    });
    const url = await listen(
      createServer(
        fence.handler(async (_request, response, token) => {
          events.push(`start ${token}`);
          if (token === 1) await oldMayFinish;
          events.push(`write ${token}`);
          response.writeHead(204).end();
        }),
      ),
    );
    return { url, events, arrived, finishOld };
  }

  it('serialises one resource, so a stale request admitted first finishes its write before the newer one starts', async () => {
    const { url, events, arrived, finishOld } = await slowFirstWriter(true);
    const first = arrived(1);
    const second = arrived(2);
    const older = post(`${url}/doc`, 1);
    await first;
    const newer = post(`${url}/doc`, 2);
    await second; // the newer request is at the fence, queued behind the older one
    expect(events).toEqual(['start 1']);
    finishOld();
    expect((await older).status).toBe(204);
    expect((await newer).status).toBe(204);
    expect((await post(`${url}/doc`, 1)).status).toBe(409);
    expect(events).toEqual(['start 1', 'write 1', 'start 2', 'write 2']);
  });

  it('without serialize, the older write can land after the newer one (why serialize is the default)', async () => {
    const { url, events, arrived, finishOld } = await slowFirstWriter(false);
    const first = arrived(1);
    const older = post(`${url}/doc`, 1);
    await first;
    expect((await post(`${url}/doc`, 2)).status).toBe(204);
    finishOld();
    expect((await older).status).toBe(204);
    expect(events).toEqual(['start 1', 'start 2', 'write 2', 'write 1']);
  });

  it('lets requests without a token through when optional', async () => {
    const fence = new HttpFence({ optional: true });
    const url = await listen(createServer(fence.handler((_request, response, token) => void response.writeHead(200).end(String(token)))));
    const response = await fetch(`${url}/r`, { method: 'POST' });
    expect(await response.text()).toBe('undefined');
  });
});

describe('HttpFence with frameworks', () => {
  it('works as Express middleware, sharing one guard across routes', async () => {
    const fence = new HttpFence({ resource: () => 'inventory' });
    const app = express();
    app.use(fence.middleware());
    app.post('/items', (_request, response) => void response.status(201).json({ token: response.locals.fencingToken }));
    app.post('/items/clear', (_request, response) => void response.status(204).end());
    const url = await listen(createServer(app));
    expect(await post(`${url}/items`, 4)).toEqual({ status: 201, body: { token: 4 } });
    expect((await post(`${url}/items/clear`, 3)).status).toBe(409);
    expect((await post(`${url}/items/clear`, 5)).status).toBe(204);
  });

  it('works as a Fastify preHandler hook', async () => {
    const fence = new HttpFence();
    const app = Fastify();
    app.addHook('preHandler', fence.fastifyHook());
    app.post('/jobs', async () => ({ ok: true }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    servers.push(() => app.close());
    expect(await post(`${url}/jobs`, 10)).toEqual({ status: 200, body: { ok: true } });
    expect(await post(`${url}/jobs`, 9)).toEqual({ status: 409, body: { error: 'stale fencing token', resource: '/jobs', token: 9, highest: 10 } });
  });
});
