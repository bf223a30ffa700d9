/**
 * Fencing tokens across server lifetimes (src/token-epoch.ts): acquisitions commit without
 * waiting for the WAL flush, so a crash can lose the last of them with their tokens; the
 * token epoch keeps every token issued after a restart above all of those.
 *
 * A restart is simulated on the shared server by making the epoch row name another server
 * lifetime (what a restart does to it); the crash itself runs on a throwaway cluster of this
 * file's own, with the WAL writer slowed so that the crash does lose commits.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BackendUnavailableError, DistributedLocks } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { PostgresCluster, waitFor } from '@baton/testkit';
import pg from 'pg';
import { PostgresLockFactory } from '../src/index.ts';
import { PG_CONFIG, tableFixture } from './helpers.ts';

const EPOCH_SPAN = 2 ** 32;
const { table, closer, admin } = tableFixture('baton_epoch');

function locksFor(identity: string): { factory: PostgresLockFactory; locks: DistributedLocks } {
  const factory = closer.add(new PostgresLockFactory({ poolConfig: PG_CONFIG, table }));
  const locks = new DistributedLocks({ factory, identity, leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2000 });
  closer.defer(() => locks.close());
  return { factory, locks };
}

async function epochRow(): Promise<{ epoch: number; lifetime: string } | undefined> {
  const { rows } = await admin().query<{ fencing_token: string; acquire_time_ms: string }>(`SELECT fencing_token, acquire_time_ms FROM "${table}" WHERE name = ''`);
  return rows[0] && { epoch: Number(rows[0].fencing_token), lifetime: rows[0].acquire_time_ms };
}

/** What a server restart does to the epoch row: it now names an earlier lifetime. */
async function simulateRestart(): Promise<void> {
  await admin().query(`UPDATE "${table}" SET acquire_time_ms = 1 WHERE name = ''`);
}

const record = (holderIdentity: string, fencingToken = 1): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationMs: 15_000,
  acquireTime: 1_767_225_600_000,
  renewTime: 1_767_225_600_000,
  leaderTransitions: 0,
  fencingToken,
});

describe('the token epoch on the shared server', () => {
  test('first use writes epoch 0 for the running server: tokens start small', async () => {
    const { locks } = locksFor('a');
    const held = await locks.get('first').acquire();
    expect(held.fencingToken).toBeLessThan(EPOCH_SPAN);
    await held.release();
    const row = await epochRow();
    expect(row?.epoch).toBe(0);
    const { rows } = await admin().query<{ lifetime: string }>(`SELECT (EXTRACT(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint::text AS lifetime`);
    expect(row?.lifetime).toBe(rows[0]!.lifetime);
  });

  test('after a restart the fast path bumps the epoch once, and its token is above the epoch floor', async () => {
    const { locks } = locksFor('a');
    const before = await locks.get('fast').acquire();
    await before.release();
    const { epoch } = (await epochRow())!;
    await simulateRestart();
    const after = await locks.get('fast').acquire();
    expect(after.fencingToken).toBeGreaterThanOrEqual((epoch + 1) * EPOCH_SPAN);
    expect(after.fencingToken).toBeGreaterThan(before.fencingToken);
    expect((await epochRow())?.epoch).toBe(epoch + 1);
    await after.release();
    // Within the lifetime, tokens go on growing by one.
    const next = await locks.get('fast').acquire();
    expect(next.fencingToken).toBe(after.fencingToken + 1);
    await next.release();
  });

  test('the elector’s writes (create, and a takeover by compare-and-swap) are held to the epoch too', async () => {
    const { factory } = locksFor('a');
    const lock = factory.lock('elected', 'me');
    const created = await lock.create(record('me'));
    const { epoch } = (await epochRow())!;
    expect(created.record.fencingToken).toBeGreaterThanOrEqual(epoch * EPOCH_SPAN);
    const released = await lock.update({ ...created.record, holderIdentity: '' }, created.version);
    await simulateRestart();
    const other = factory.lock('elected', 'other');
    const taken = await other.update(record('other', released.record.fencingToken + 1), released.version);
    expect(taken.record.fencingToken).toBeGreaterThanOrEqual((epoch + 1) * EPOCH_SPAN);
    // A new record after a restart, too.
    await simulateRestart();
    const fresh = await factory.lock('elected-fresh', 'me').create(record('me'));
    expect(fresh.record.fencingToken).toBeGreaterThanOrEqual((epoch + 2) * EPOCH_SPAN);
  });

  test('a waiter that started blocking at the server in a stale epoch writes nothing when granted: it bumps the epoch and takes the lock above the new floor', async () => {
    const a = locksFor('a');
    const b = locksFor('b');
    const held = await a.locks.get('waited').acquire();
    const { epoch } = (await epochRow())!;
    // (A real restart would also end the holder's session; here it only makes the epoch stale.)
    await simulateRestart();
    const waiting = b.locks.get('waited').acquire({ timeout: 20_000 });
    await waitFor(async () => (await admin().query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory'`)).rowCount! > 0, 10_000, 'the waiter to block at the server');
    await held.release();
    const next = await waiting;
    expect(next.fencingToken).toBeGreaterThanOrEqual((epoch + 1) * EPOCH_SPAN);
    expect((await epochRow())?.epoch).toBe(epoch + 1);
    await next.release();
  });

  test('a corrupt epoch row is a BackendUnavailableError that names it; the lock rows are left as they were', async () => {
    const { locks } = locksFor('a');
    const held = await locks.get('kept').acquire();
    await held.release();
    const { rows: before } = await admin().query(`SELECT * FROM "${table}" WHERE name = 'kept'`);
    await admin().query(`UPDATE "${table}" SET fencing_token = -5, acquire_time_ms = (EXTRACT(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint WHERE name = ''`);
    try {
      const attempt = locks.get('kept').tryAcquire();
      await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(attempt).rejects.toThrow(/epoch/);
      const { rows: after } = await admin().query(`SELECT * FROM "${table}" WHERE name = 'kept'`);
      expect(after).toEqual(before);
    } finally {
      await admin().query(`UPDATE "${table}" SET fencing_token = 5 WHERE name = ''`);
    }
  });
});

describe('a real crash (a throwaway cluster, the WAL writer slowed to 10 s)', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await PostgresCluster.create({ settings: { wal_writer_delay: '10000ms' } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  test('commits the crash lost take their tokens with them; the first term after it gets a larger token than any issued before', async () => {
    const factory = closer.add(new PostgresLockFactory({ poolConfig: { ...cluster.connection, max: 2 }, table: 'crash' }));
    const locks = new DistributedLocks({ factory, identity: 'a', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2000 });
    closer.defer(() => locks.close());
    let highest = 0;
    for (let i = 0; i < 200; i++) {
      const held = await locks.get('crash').acquire();
      highest = Math.max(highest, held.fencingToken);
      await held.release();
    }
    await cluster.stop('immediate');
    await cluster.start();
    const reader = new pg.Client(cluster.connection);
    await reader.connect();
    const durable = Number((await reader.query<{ t: string }>(`SELECT fencing_token AS t FROM crash WHERE name = 'crash'`)).rows[0]?.t ?? 0);
    await reader.end();
    console.log(`lock-postgres token epoch: ${highest} tokens issued before the crash, ${durable} survived it (${highest - durable} lost with their commits)`);
    // Another replica, which never saw the lost tokens (this process remembers its own highest).
    const otherFactory = closer.add(new PostgresLockFactory({ poolConfig: { ...cluster.connection, max: 2 }, table: 'crash' }));
    const other = new DistributedLocks({ factory: otherFactory, identity: 'b', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2000 });
    closer.defer(() => other.close());
    const after = await other.get('crash').acquire({ timeout: 20_000 });
    expect(after.fencingToken).toBeGreaterThan(highest);
    expect(after.fencingToken).toBeGreaterThanOrEqual(EPOCH_SPAN);
    await after.release();
  }, 60_000);
});
