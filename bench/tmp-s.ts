import { DistributedLocks } from '@baton/core';
import { RedisLockFactory } from '@baton/lock-redis';
const factory = new RedisLockFactory({ connection: { host: '127.0.0.1', port: 6391 }, keyPrefix: 'proftest:' });
const locks = new DistributedLocks({ factory });
const tag = Date.now();
const sem = locks.semaphore(`s-${tag}`, { permits: 3 });
const rw = locks.readWrite(`r-${tag}`);
const store = factory.primitives.semaphore(`q-${tag}`, 3);
const N = 100; const tot: Record<string, number> = {};
const v: Record<string, () => Promise<unknown>> = {
  sem: async () => { const h = await sem.acquire(); await h.release(); },
  read: async () => { const h = await rw.acquireRead(); await h.release(); },
  write: async () => { const h = await rw.acquireWrite(); await h.release(); },
  semAcquireOnly: async () => { const a = await store.tryAcquire('x', 15000, { wait: true }); if (a.granted) await factory.client.zrem(`proftest:{q-${tag}}:semaphore:holders`, 'x'); },
};
for (let round = 0; round < 20; round++) for (const [k, f] of Object.entries(v)) { const t = performance.now(); for (let i = 0; i < N; i++) await f(); tot[k] = (tot[k] ?? 0) + performance.now() - t; }
for (const [k, t] of Object.entries(tot)) console.log(`${k}: ${(t / (20 * N) * 1000).toFixed(0)} us`);
locks.close(); await factory.close();
