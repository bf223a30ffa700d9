import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { FakeClock } from '@baton/core';
import { waitFor } from '@baton/contract';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { KubeContext, leaseResource } from '../src/index.ts';

/** A server that accepts every connection and resets it at once: each is one failed list. */
let server: Server;
let port: number;
let attempts = 0;
const sockets = new Set<Socket>();
beforeAll(async () => {
  server = createServer((socket) => {
    attempts++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the watch reconnects with a backoff doubling from 100 ms, timed by the injected clock', async () => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const clock = new FakeClock();
  const context = new KubeContext({ kubeConfig, clock, events: false });
  const health: boolean[] = [];
  const stop = context.informer(leaseResource('default')).subscribe('my-app', { onObject: () => {}, onHealth: (h) => health.push(h) });
  try {
    await waitFor(() => attempts === 1 && clock.pendingTimers === 1, 5_000, 'the first list to fail');
    expect(health).toEqual([]); // never healthy, so never reported broken either
    // Real time passes, the fake clock does not: no retry.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts).toBe(1);
    for (const [delay, expected] of [[100, 2], [200, 3], [400, 4]] as const) {
      await clock.advance(delay - 1);
      expect(attempts).toBe(expected - 1);
      await clock.advance(1);
      await waitFor(() => attempts === expected && clock.pendingTimers === 1, 5_000, `attempt ${expected}`);
    }
  } finally {
    stop();
    context.close();
  }
  expect(clock.pendingTimers).toBe(0);
});
