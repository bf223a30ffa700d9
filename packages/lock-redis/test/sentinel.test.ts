import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { describeResourceLockContract, waitFor } from '@baton/contract';
import { Redis } from 'ioredis';
import { ConfigError } from '@baton/core';
import { RedisLock, RedisLockFactory, redisConnectionFromConfig } from '../src/index.ts';
import type { RedisConnectionOptions } from '../src/index.ts';
import { TIMINGS, measured, runCandidate, stopAll, testPrefix, tokensInOrder } from './support/env.ts';
import type { Candidate } from './support/env.ts';
import { rawCommand } from '@baton/testkit';
import { LocalSentinel } from './support/topology.ts';

// Sentinel: a master, a replica and one sentinel on loopback ports of this file's own. The
// full contract suite runs through the sentinel, then a failover in the middle of a term.

const keyPrefix = testPrefix();
let topology: LocalSentinel;
let admin: Redis;
const connection = (): RedisConnectionOptions => ({
  sentinels: [{ host: '127.0.0.1', port: topology.sentinel.port }],
  name: LocalSentinel.masterName,
});

beforeAll(async () => {
  topology = await LocalSentinel.start();
  admin = new Redis({ ...(connection() as object), lazyConnect: false });
  admin.on('error', () => {});
}, 60_000);

afterAll(async () => {
  await admin?.quit();
  await topology?.stop();
  for (const [name, value] of Object.entries(measured)) console.log(`measured: ${name}: ${value}`);
});

describeResourceLockContract({
  name: 'redis (sentinel)',
  createLock: (lockName, identity) => new RedisLock({ connection: connection(), keyPrefix, name: lockName, identity }),
  plantCorruptRecord: async (lockName) => {
    await admin.hset(`${keyPrefix}{${lockName}}`, 'holderIdentity', 'someone', 'leaseDurationMs', 'forever');
  },
  watch: true,
  childProcessLock: () => ({ module: new URL('./support/contract-child.ts', import.meta.url), options: { connection: connection(), keyPrefix } }),
  fastPath: true,
});

test('the configuration reaches the master through `redis.sentinel`', async () => {
  const factory = new RedisLockFactory({
    connection: redisConnectionFromConfig({ sentinel: { name: LocalSentinel.masterName, nodes: [`127.0.0.1:${topology.sentinel.port}`] } }),
    keyPrefix,
  });
  const lock = factory.lock('cli-sentinel', 'me');
  try {
    await lock.create({ holderIdentity: 'me', leaseDurationMs: 1000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 });
    expect(await admin.hget(`${keyPrefix}{cli-sentinel}`, 'holderIdentity')).toBe('me');
  } finally {
    await factory.close();
  }
});

test('the configuration rejects a section naming both sentinel and cluster, or malformed nodes', () => {
  expect(() => redisConnectionFromConfig({ sentinel: { name: 'm', nodes: ['h:1'] }, cluster: ['h:2'] })).toThrow(ConfigError);
  expect(() => redisConnectionFromConfig({ cluster: ['no-port'] })).toThrow('cluster[0]: "no-port" is not host:port');
  expect(() => redisConnectionFromConfig({ sentinel: { nodes: ['h:1'] } })).toThrow('sentinel.name');
});

describe('sentinel failover', () => {
  test('the replica is promoted mid-term: one leader again on the new master, tokens still increase', async () => {
    const candidates: Candidate[] = ['a', 'b', 'c'].map((id) =>
      runCandidate(new RedisLock({ connection: connection(), keyPrefix, name: 'failover', identity: id })),
    );
    const leaders = (): Candidate[] => candidates.filter((c) => c.elector.isLeader());
    try {
      await waitFor(() => leaders().length === 1, 10_000, 'a leader');
      // The record has reached the replica before the failover (replication is asynchronous).
      await waitFor(async () => (await rawCommand(topology.replica.port, `HEXISTS ${keyPrefix}{failover} holderIdentity`)).startsWith(':1'), 5000, 'replication');
      const oldMaster = await topology.masterPort();
      const termsBefore = candidates.reduce((n, c) => n + c.started.length, 0);

      const failoverAt = performance.now();
      expect(await rawCommand(topology.sentinel.port, `SENTINEL FAILOVER ${LocalSentinel.masterName}`)).toBe('+OK\r\n');
      await waitFor(async () => (await topology.masterPort()) !== oldMaster, 15_000, 'the sentinel to name the new master');
      const switchedAt = performance.now();
      // Writes reach the new master: the record is renewed (or re-acquired) there.
      const renewTime = async (): Promise<number> => {
        const reply = await rawCommand(topology.replica.port, `HGET ${keyPrefix}{failover} renewTime`);
        return Number(/\r\n(\d+)\r\n$/.exec(reply)?.[1] ?? 0);
      };
      const seen = await renewTime();
      await waitFor(async () => (await renewTime()) > seen, 15_000, 'a write on the new master');
      const writtenAt = performance.now();
      await waitFor(() => leaders().length === 1, 10_000, 'one leader after the failover');
      const until = performance.now() + 3 * TIMINGS.retryPeriodMs;
      await waitFor(() => {
        expect(leaders()).toHaveLength(1);
        return performance.now() > until;
      }, 10_000, 'a few renewals');
      const tokens = tokensInOrder(candidates);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
      const termsAfter = candidates.reduce((n, c) => n + c.started.length, 0);
      measured['sentinel failover: new master named / first write on it, after SENTINEL FAILOVER'] =
        `${(switchedAt - failoverAt).toFixed(0)} ms / ${(writtenAt - failoverAt).toFixed(0)} ms; terms during the failover: ${termsAfter - termsBefore}`;
    } finally {
      await stopAll(candidates);
      await Promise.all(candidates.map((c) => c.lock.close?.()));
    }
  }, 60_000);
});
