import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { TcpProxy } from '../src/index.ts';

/** An echo server that also tells which of its connections closed. */
let echo: Server;
let echoPort: number;
let serverSockets: Socket[];
let proxy: TcpProxy;

beforeEach(async () => {
  serverSockets = [];
  echo = createServer((socket) => {
    serverSockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (data) => socket.write(data));
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  echoPort = (echo.address() as { port: number }).port;
  proxy = await TcpProxy.start(echoPort);
});

afterEach(async () => {
  await proxy.close();
  for (const s of serverSockets) s.destroy();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxy.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `text` and resolves with the echo and how long it took (ms), or null after `timeoutMs`. */
function roundTrip(socket: Socket, text: string, timeoutMs = 2_000): Promise<{ text: string; ms: number } | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    let got = '';
    const onData = (data: Buffer): void => {
      got += data.toString();
      if (got.length >= text.length) finish({ text: got, ms: performance.now() - started });
    };
    const finish = (value: { text: string; ms: number } | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('data', onData);
    socket.write(text);
  });
}

const closed = (socket: Socket): Promise<void> => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('TcpProxy', () => {
  it('forwards both ways', async () => {
    const socket = await open();
    expect((await roundTrip(socket, 'hello'))?.text).toBe('hello');
    socket.destroy();
  });

  it('delays every chunk both ways, in order', async () => {
    const socket = await open();
    proxy.setDelay(100);
    const result = await roundTrip(socket, 'abcdef');
    expect(result?.text).toBe('abcdef');
    expect(result!.ms).toBeGreaterThanOrEqual(195);
    proxy.heal();
    expect((await roundTrip(socket, 'x'))!.ms).toBeLessThan(100);
    socket.destroy();
  });

  it('cut resets open connections and refuses new ones until healed', async () => {
    const socket = await open();
    await roundTrip(socket, 'warm');
    const error = new Promise<unknown>((resolve) => socket.on('error', resolve));
    proxy.cut();
    await closed(socket);
    expect(await error).toMatchObject({ code: 'ECONNRESET' });
    const refused = await open().then((s) => closed(s).then(() => 'closed'), () => 'error');
    expect(['closed', 'error']).toContain(refused);
    expect(proxy.stats.cutConnections).toBe(1);
    proxy.heal();
    const again = await open();
    expect((await roundTrip(again, 'back'))?.text).toBe('back');
    again.destroy();
  });

  it('reset resets open connections once and keeps accepting new ones', async () => {
    const socket = await open();
    await roundTrip(socket, 'warm');
    const error = new Promise<unknown>((resolve) => socket.on('error', resolve));
    const serverClosed = closed(serverSockets[0]!);
    proxy.reset();
    expect(await error).toMatchObject({ code: 'ECONNRESET' });
    await serverClosed;
    const again = await open();
    expect((await roundTrip(again, 'still open'))?.text).toBe('still open');
    expect(proxy.accepted).toBe(2);
    again.destroy();
  });

  it('hang stalls traffic and hides closes until healed, then delivers what was held', async () => {
    const socket = await open();
    await roundTrip(socket, 'warm');
    proxy.hang();
    expect(await roundTrip(socket, 'held', 300)).toBeNull();
    // The client gives up; the server must not notice during the partition.
    let serverSawClose = false;
    serverSockets[0]!.once('close', () => (serverSawClose = true));
    const late = await open();
    late.on('error', () => {});
    expect(await roundTrip(late, 'nothing', 200)).toBeNull();
    socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(serverSawClose).toBe(false);
    expect(serverSockets).toHaveLength(1); // the new connection was not forwarded yet
    proxy.heal();
    await new Promise((r) => setTimeout(r, 100));
    expect(serverSawClose).toBe(true);
    // The connection opened during the partition now reaches the server and gets its echo.
    expect(serverSockets).toHaveLength(2);
    expect((await roundTrip(late, '!'))?.text).toContain('!');
    late.destroy();
  });
});
