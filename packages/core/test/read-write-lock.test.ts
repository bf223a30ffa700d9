import { afterEach, describe, expect, test } from '@jest/globals';
import { ConfigError, DistributedLocks, FakeClock, LockLostError, LockTimeoutError, MemoryLockStore, ReadHandle } from '../src/index.ts';
import type { LockHandle, MemoryLock } from '../src/index.ts';

const LEASE = 15_000;
const RENEW = 10_000;

let clock = new FakeClock();
let store = new MemoryLockStore();
const instances: DistributedLocks[] = [];
let issued: Array<{ identity: string; lock: MemoryLock }> = [];

function locksFor(identity: string): DistributedLocks {
  const locks = new DistributedLocks({
    identity,
    clock,
    random: () => 0,
    lockFor: (name, id) => {
      const lock = store.lock(name, id);
      issued.push({ identity: id, lock });
      return lock;
    },
  });
  instances.push(locks);
  return locks;
}

afterEach(() => {
  for (const locks of instances.splice(0)) locks.close();
  clock = new FakeClock();
  store = new MemoryLockStore();
  issued = [];
});

const settle = () => clock.advance(0);

/** Records when each handle is granted, for overlap checks. */
function track<H extends LockHandle>(promise: Promise<H>): { handle?: H; at?: number; done: Promise<H> } {
  const t: { handle?: H; at?: number; done: Promise<H> } = { done: promise };
  void promise.then((h) => {
    t.handle = h;
    t.at = clock.now();
  }, () => {});
  return t;
}

describe('DistributedReadWriteLock', () => {
  test('validates maxReaders with a typed error', () => {
    const locks = locksFor('a');
    expect(() => locks.readWrite('rw', { maxReaders: 0 })).toThrow(ConfigError);
    expect(() => locks.readWrite('rw', { maxReaders: 2.5 })).toThrow(ConfigError);
    expect(locks.readWrite('rw')).toBe(locks.readWrite('rw'));
    expect(() => locks.readWrite('rw', { maxReaders: 3 })).toThrow(ConfigError);
  });

  test('readers share the lock; a writer waits for them, and readers arriving meanwhile wait for the writer', async () => {
    const [a, b, c, w] = ['a', 'b', 'c', 'w'].map((id) => locksFor(id).readWrite('catalog'));
    const r1 = await a!.acquireRead();
    const r2 = await b!.acquireRead();
    expect(r1).toBeInstanceOf(ReadHandle);
    expect(r1.writeEpoch).toBe(0);
    const write = track(w!.acquireWrite());
    await clock.advance(3 * LEASE); // readers renewed all along: the writer waits
    expect(write.handle).toBeUndefined();
    // Writer preference: a new reader does not get in while the writer waits.
    expect(await c!.tryAcquireRead()).toBeUndefined();
    const late = track(c!.acquireRead());
    await clock.advance(LEASE);
    expect(late.handle).toBeUndefined();
    await r1.release();
    await settle();
    expect(write.handle).toBeUndefined();
    await r2.release();
    await settle();
    expect(write.handle).toBeDefined();
    expect(late.handle).toBeUndefined();
    const token = write.handle!.fencingToken;
    await clock.advance(2 * LEASE);
    await write.handle!.release();
    await clock.advanceUntil(() => late.handle !== undefined, 5_000);
    expect(late.handle!.writeEpoch).toBe(token);
    expect(late.handle!.fencingToken).toBe(token);
    await late.handle!.release();
  });

  test('write tokens strictly increase; writers exclude each other', async () => {
    const [a, b] = ['a', 'b'].map((id) => locksFor(id).readWrite('catalog'));
    const first = await a!.acquireWrite();
    expect(await b!.tryAcquireWrite()).toBeUndefined();
    expect(await b!.tryAcquireRead()).toBeUndefined();
    const second = track(b!.acquireWrite());
    await clock.advance(2 * LEASE);
    expect(second.handle).toBeUndefined();
    await first.release();
    await settle();
    expect(second.handle!.fencingToken).toBeGreaterThan(first.fencingToken);
    await second.handle!.release();
    const third = await a!.withWrite((held) => held.fencingToken);
    expect(third).toBeGreaterThan(second.handle!.fencingToken);
  });

  test('a crashed reader holds off the writer only until its lease has expired', async () => {
    const reader = locksFor('r').readWrite('catalog');
    const read = await reader.acquireRead();
    for (const { identity, lock } of issued) if (identity.startsWith('r/')) lock.setFault('unavailable');
    let lostAt = 0;
    read.signal.addEventListener('abort', () => (lostAt = clock.now()));
    const start = clock.now();
    const write = track(locksFor('w').readWrite('catalog').acquireWrite());
    await clock.advanceUntil(() => write.handle !== undefined, 3 * LEASE, 100);
    expect(read.signal.reason).toBeInstanceOf(LockLostError);
    expect(lostAt - start).toBeLessThanOrEqual(RENEW);
    expect(write.at! - start).toBeGreaterThanOrEqual(LEASE);
    await write.handle!.release();
  });

  test('a crashed writer holds off readers only until its lease has expired', async () => {
    const writer = locksFor('w').readWrite('catalog');
    const write = await writer.acquireWrite();
    for (const { identity, lock } of issued) if (identity.startsWith('w/')) lock.setFault('unavailable');
    let lostAt = 0;
    write.signal.addEventListener('abort', () => (lostAt = clock.now()));
    const start = clock.now();
    const read = track(locksFor('r').readWrite('catalog').acquireRead());
    await clock.advanceUntil(() => read.handle !== undefined, 3 * LEASE, 100);
    expect(lostAt - start).toBeLessThanOrEqual(RENEW);
    expect(read.at! - start).toBeGreaterThanOrEqual(LEASE);
    expect(read.handle!.writeEpoch).toBe(write.fencingToken);
    await read.handle!.release();
  });

  test('at most maxReaders reads at once; a writer that gives up lets readers back in', async () => {
    const locks = ['a', 'b', 'c'].map((id) => locksFor(id).readWrite('catalog', { maxReaders: 2 }));
    const r1 = await locks[0]!.acquireRead();
    const r2 = await locks[1]!.acquireRead();
    expect(await locks[2]!.tryAcquireRead()).toBeUndefined();
    const writeGivesUp = expect(locks[2]!.acquireWrite({ timeout: '5s' })).rejects.toBeInstanceOf(LockTimeoutError);
    await clock.advance(5_000);
    await writeGivesUp;
    await r1.release();
    const r3 = await locks[2]!.acquireRead({ timeout: '1s' });
    // The writer record's token moved on when the writer took it, though it never wrote:
    // the epoch only promises that any later write term carries a larger token.
    expect(r3.writeEpoch).toBe(1);
    await r2.release();
    await r3.release();
  });

  test('processes disagreeing on maxReaders: the second fails with ConfigError', async () => {
    const read = await locksFor('a').readWrite('catalog', { maxReaders: 4 }).acquireRead();
    await expect(locksFor('b').readWrite('catalog', { maxReaders: 8 }).acquireWrite()).rejects.toBeInstanceOf(ConfigError);
    await read.release();
  });

  test('never a writer beside a reader under a random mix of four processes', async () => {
    const rws = ['p0', 'p1', 'p2', 'p3'].map((id) => locksFor(id).readWrite('mix', { maxReaders: 3 }));
    let readers = 0;
    let writers = 0;
    let violations = 0;
    let maxReaders = 0;
    const writeTokens: number[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const work = rws.map(async (rw, p) => {
      for (let round = 0; round < 12; round++) {
        const hold = 100 + Math.floor(rand() * 2_000);
        if (rand() < 0.35) {
          await rw.withWrite(async (held) => {
            writers++;
            writeTokens.push(held.fencingToken);
            if (writers > 1 || readers > 0) violations++;
            await new Promise<void>((resolve) => clock.setTimeout(resolve, hold));
            writers--;
          });
        } else {
          await rw.withRead(async () => {
            readers++;
            maxReaders = Math.max(maxReaders, readers);
            if (writers > 0) violations++;
            await new Promise<void>((resolve) => clock.setTimeout(resolve, hold));
            readers--;
          });
        }
      }
      return p;
    });
    let finished = 0;
    for (const w of work) void w.then(() => finished++);
    await clock.advanceUntil(() => finished === rws.length, 30 * 60_000, 50);
    expect(violations).toBe(0);
    expect(maxReaders).toBeGreaterThan(1);
    expect(maxReaders).toBeLessThanOrEqual(3);
    expect(writeTokens.length).toBeGreaterThan(0);
    for (let i = 1; i < writeTokens.length; i++) expect(writeTokens[i]!).toBeGreaterThan(writeTokens[i - 1]!);
  });
});
