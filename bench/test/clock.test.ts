import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { measureClockOffset, now } from '../src/lib/clock.ts';

/**
 * A clock server that leaves the first `hang` requests unanswered (as a SIGSTOPped candidate
 * or a stalled harness would see them) and answers the others with its time.
 */
let server: Server;
let url: string;
let hang = 0;
const hung: ServerResponse[] = [];
beforeAll(async () => {
  server = createServer((_, res) => {
    if (hang > 0) {
      hang--;
      hung.push(res);
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ t: now() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clock`;
});
afterAll(async () => {
  for (const res of hung.splice(0)) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('measureClockOffset', () => {
  it('takes a round trip that timed out again instead of failing', async () => {
    hang = 2;
    const result = await measureClockOffset(url, 3, { timeoutMs: 200 });
    expect(result.samples).toBe(3);
    expect(hang).toBe(0);
    // Same process, same clock: the offset is within the round trip's uncertainty.
    expect(Math.abs(result.offsetMs)).toBeLessThanOrEqual(result.uncertaintyMs + 0.5);
  });

  it('gives up after maxTimeouts round trips timed out', async () => {
    hang = 3;
    await expect(measureClockOffset(url, 3, { timeoutMs: 100, maxTimeouts: 3 })).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
