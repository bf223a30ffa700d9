/**
 * The Redis fence on the shared server, under a key prefix of its own per run.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { ConfigError, InvalidRecordError } from '@baton/core';
import { InvalidTokenError, StaleTokenError } from '../src/index.ts';
import { RedisFence } from '../src/redis.ts';

const run = `fence-test-${randomBytes(4).toString('hex')}:`;
const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const fence = new RedisFence(client, { keyPrefix: run });
const key = (name: string): string => `${run}data:${name}`;

afterAll(async () => {
  const keys = await client.keys(`${run}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

describe('RedisFence', () => {
  it('applies writes under the current token and refuses a superseded one without writing', async () => {
    await fence.set('cfg', 1, key('cfg'), 'from-1');
    await fence.set('cfg', 2, key('cfg'), 'from-2');
    await fence.set('cfg', 2, key('cfg'), 'again-2'); // one term writes many times
    const stale = await fence.set('cfg', 1, key('cfg'), 'stale').catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(StaleTokenError);
    expect(stale).toMatchObject({ resource: 'cfg', token: 1, highest: 2 });
    expect(await client.get(key('cfg'))).toBe('again-2');
    expect(await fence.highestToken('cfg')).toBe(2);
  });

  it('guards HSET, DEL and SET with expiry the same way', async () => {
    await fence.hset('acct', 5, key('acct'), { balance: 10, owner: 'a' });
    await expect(fence.hset('acct', 4, key('acct'), { balance: 0 })).rejects.toThrow(StaleTokenError);
    expect(await client.hgetall(key('acct'))).toEqual({ balance: '10', owner: 'a' });
    await expect(fence.del('acct', 3, key('acct'))).rejects.toThrow(StaleTokenError);
    expect(await client.exists(key('acct'))).toBe(1);
    await fence.del('acct', 6, key('acct'));
    expect(await client.exists(key('acct'))).toBe(0);
    await fence.set('ttl', 1, key('ttl'), 'v', { px: 60_000 });
    expect(await client.pttl(key('ttl'))).toBeGreaterThan(50_000);
  });

  it('check() raises the fence without writing, so older writers are refused from then on', async () => {
    await fence.check('announce', 8);
    await expect(fence.set('announce', 7, key('announce'), 'x')).rejects.toThrow(StaleTokenError);
    expect(await client.exists(key('announce'))).toBe(0);
  });

  it('never writes when the fence key holds something that is not a token', async () => {
    await client.set(fence.fenceKey('corrupt'), 'not-a-number');
    await expect(fence.set('corrupt', 1, key('corrupt'), 'x')).rejects.toThrow(InvalidRecordError);
    await client.del(fence.fenceKey('list'));
    await client.rpush(fence.fenceKey('list'), 'a');
    await expect(fence.set('list', 1, key('list'), 'x')).rejects.toThrow(InvalidRecordError);
    expect(await client.exists(key('corrupt'), key('list'))).toBe(0);
  });

  it('reports a write Redis refuses as such, and checks its arguments first', async () => {
    await client.rpush(key('a-list'), 'x');
    await expect(fence.hset('typed', 1, key('a-list'), { f: 'v' })).rejects.toMatchObject({ code: 'FENCING_WRITE_REFUSED' });
    await expect(fence.set('cfg', 0, key('cfg'), 'x')).rejects.toThrow(InvalidTokenError);
    await expect(fence.set('a{b}', 1, key('x'), 'x')).rejects.toThrow(ConfigError);
    expect(() => new RedisFence(client, { keyPrefix: '{bad}' })).toThrow(ConfigError);
  });
});
