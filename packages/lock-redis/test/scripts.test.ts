// The Lua scripts are embedded as strings (src/scripts/*.lua.ts) so that a bundle carries
// them. Redis must be running exactly that text: after a write, a fast-path acquisition and a
// patch (a release on top of the acquisition) the server knows every script under the SHA1 of
// the embedded source.
import { afterAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { RedisLock } from '../src/index.ts';
import { scriptSources } from '../src/scripts.ts';
import { SHARED, adminClient, deleteKeys, testPrefix } from './support/env.ts';

const keyPrefix = testPrefix();
const admin = adminClient();

afterAll(async () => {
  await deleteKeys(admin, keyPrefix);
  admin.disconnect();
});

test('Redis runs the embedded script text', async () => {
  const sources = scriptSources();
  expect(sources.batonLockWrite).toMatch(/^-- baton: write a leader election record/);
  expect(sources.batonLockAcquire).toMatch(/^-- baton/);
  const lock = new RedisLock({ connection: { ...SHARED }, keyPrefix, name: 'embedded', identity: 'me' });
  try {
    const now = Date.now();
    const written = await lock.create({ holderIdentity: 'me', leaseDurationMs: 1000, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 1 });
    expect(written.record.holderIdentity).toBe('me');
    const released = await lock.update({ ...written.record, holderIdentity: '' }, written.version);
    const acquired = await lock.acquireIfFree!({ holderIdentity: 'me', leaseDurationMs: 1000, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 2 });
    expect(acquired.acquired).toBe(true);
    await lock.update({ ...acquired.snapshot.record, holderIdentity: '' }, acquired.snapshot.version);
    expect(released.record.holderIdentity).toBe('');
    expect(Object.keys(sources)).toEqual(['batonLockWrite', 'batonLockAcquire', 'batonLockPatch']);
    const shas = Object.values(sources).map((lua) => createHash('sha1').update(lua).digest('hex'));
    expect(await admin.script('EXISTS', ...shas)).toEqual([1, 1, 1]);
  } finally {
    await lock.close?.();
  }
});
