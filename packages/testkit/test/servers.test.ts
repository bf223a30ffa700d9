import { afterAll, describe, expect, it } from '@jest/globals';
import { createConnection } from 'node:net';
import { PostgresCluster, RedisServerProcess, freePort, rawCommand } from '../src/index.ts';

/** Whether something accepts TCP connections on the port. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('RedisServerProcess', () => {
  let server: RedisServerProcess | undefined;
  afterAll(() => server?.stop());

  it('runs on its own port, and a SIGTERM restart keeps the data when persistent, with the port closed while down', async () => {
    server = await RedisServerProcess.start({ persistent: true });
    expect(server.port).not.toBe(6379);
    expect(await rawCommand(server.port, 'SET k v')).toBe('+OK\r\n');
    const pid = server.pid;
    const restarted = server.restart({ signal: 'SIGTERM', downMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await listening(server.port)).toBe(false);
    await restarted;
    expect(server.pid).not.toBe(pid);
    expect(await rawCommand(server.port, 'GET k')).toBe('$1\r\nv\r\n');
  });

  it('a SIGKILL restart of a non-persistent server loses the data', async () => {
    const volatile = await RedisServerProcess.start();
    try {
      await rawCommand(volatile.port, 'SET k v');
      await volatile.restart();
      expect(await rawCommand(volatile.port, 'GET k')).toBe('$-1\r\n');
    } finally {
      await volatile.stop();
    }
  });
});

describe('PostgresCluster', () => {
  let cluster: PostgresCluster | undefined;
  afterAll(() => cluster?.destroy());

  it('initdb on a free port, a real restart (new postmaster, port closed while down)', async () => {
    cluster = await PostgresCluster.create();
    expect(cluster.port).not.toBe(5432);
    expect(await listening(cluster.port)).toBe(true);
    const pid = cluster.pid;
    expect(pid).toBeGreaterThan(0);
    await cluster.stop();
    expect(await listening(cluster.port)).toBe(false);
    await cluster.start();
    expect(cluster.pid).not.toBe(pid);
    expect(await listening(cluster.port)).toBe(true);
  }, 60_000);
});

it('freePort gives a port nothing listens on', async () => {
  expect(await listening(await freePort())).toBe(false);
});
