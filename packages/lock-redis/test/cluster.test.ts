import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { describeResourceLockContract, waitFor } from '@baton/contract';
import { Cluster } from 'ioredis';
import { RedisLock, RedisLockFactory, redisConnectionFromConfig } from '../src/index.ts';
import { measured, runCandidate, stopAll, testPrefix } from './support/env.ts';
import type { Candidate } from './support/env.ts';
import { LocalCluster } from './support/topology.ts';

// Redis Cluster: three masters on loopback ports of this file's own. The full contract suite
// runs against it, then what is particular to a cluster: both keys of a lock in one slot,
// locks spread over the masters, and pub/sub that reaches a subscriber on any node.

const keyPrefix = testPrefix();
let cluster: LocalCluster;
let admin: Cluster;

beforeAll(async () => {
  cluster = await LocalCluster.start(3);
  admin = new Cluster(cluster.startupNodes);
  await new Promise<void>((resolve, reject) => {
    admin.once('ready', resolve);
    admin.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  await admin?.quit();
  await cluster?.stop();
  for (const [name, value] of Object.entries(measured)) console.log(`measured: ${name}: ${value}`);
});

// The contract's locks share one factory, as an application's would: one cluster client
// (slot map, node connections) for all, instead of a cold one for every lock.
let shared: RedisLockFactory | undefined;
describeResourceLockContract({
  name: 'redis (cluster, 3 masters)',
  createLock: (lockName, identity) => (shared ??= new RedisLockFactory({ connection: { cluster: cluster.startupNodes }, keyPrefix })).lock(lockName, identity),
  teardown: async () => {
    await shared?.close();
  },
  plantCorruptRecord: async (lockName) => {
    await admin.set(`${keyPrefix}{${lockName}}`, 'not a record');
  },
  watch: true,
  childProcessLock: () => ({ module: new URL('./support/contract-child.ts', import.meta.url), options: { connection: { cluster: cluster.startupNodes }, keyPrefix } }),
  fastPath: true,
});

describe('cluster specifics', () => {
  test('the configuration reaches the cluster from `redis.cluster` startup nodes', async () => {
    const nodes = cluster.startupNodes.map((node) => `${node.host ?? '127.0.0.1'}:${node.port}`);
    const factory = new RedisLockFactory({ connection: redisConnectionFromConfig({ cluster: nodes }), keyPrefix });
    const lock = factory.lock('cli-cluster', 'me');
    try {
      const created = await lock.create({ holderIdentity: 'me', leaseDurationMs: 1000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 });
      expect(created.record.holderIdentity).toBe('me');
      expect(await admin.hget(`${keyPrefix}{cli-cluster}`, 'holderIdentity')).toBe('me');
    } finally {
      await factory.close();
    }
  });

  test('a lock’s keys share one slot, and locks spread over every master', async () => {
    const factory = new RedisLockFactory({ connection: { cluster: cluster.startupNodes }, keyPrefix });
    try {
      const locks = Array.from({ length: 24 }, (_, i) => factory.lock(`spread-${i}`, 'me'));
      for (const lock of locks) {
        expect(await admin.cluster('KEYSLOT', lock.keys.record)).toBe(await admin.cluster('KEYSLOT', lock.keys.fence));
        await lock.create({ holderIdentity: 'me', leaseDurationMs: 60_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 });
      }
      const perNode = await Promise.all(admin.nodes('master').map((node) => node.dbsize()));
      expect(perNode.filter((n) => n > 0)).toHaveLength(3);
    } finally {
      await factory.close();
    }
  });

  test('electors on locks owned by different masters hand over through one subscriber per factory', async () => {
    const factories = [0, 1].map(() => new RedisLockFactory({ connection: { cluster: cluster.startupNodes }, keyPrefix }));
    const candidates: Candidate[] = [];
    const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
    try {
      const names = ['handover-a', 'handover-b', 'handover-c', 'handover-d', 'handover-e', 'handover-f'];
      const first = names.map((name) => runCandidate(factories[0]!.lock(name, 'first'), timings));
      candidates.push(...first);
      await waitFor(() => first.every((c) => c.elector.isLeader()), 10_000, 'the first factory to lead every lock');
      const second = names.map((name) => runCandidate(factories[1]!.lock(name, 'second'), timings));
      candidates.push(...second);
      await waitFor(() => second.every((c) => c.elector.getLeader() === 'first'), 10_000, 'the second factory to see the leaders');
      const releasedAt = performance.now();
      await stopAll(first);
      await waitFor(() => second.every((c) => c.elector.isLeader()), 2_000, 'the second factory to take every lock');
      const worst = Math.max(...second.map((c) => c.started[0]!.at - releasedAt));
      // The retry period is 2 s: far below it means pub/sub woke them.
      expect(worst).toBeLessThan(1000);
      measured['cluster: 6 locks on 3 masters, all released at once → all taken by the other factory'] = `${worst.toFixed(0)} ms`;
      for (const [i, c] of second.entries()) expect(c.started[0]!.token).toBeGreaterThan(first[i]!.started[0]!.token);
    } finally {
      await stopAll(candidates);
      await Promise.all(factories.map((f) => f.close()));
    }
  });
});
