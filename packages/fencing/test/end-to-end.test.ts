/**
 * The whole pattern: a lock holder's fencing token flows into a fenced PostgreSQL write, and
 * a paused old holder — still believing it holds the lock when it wakes — is refused.
 *
 * Each holder runs on its own fake clock, so one can be "paused" (its clock and timers
 * frozen) while the other's time runs on, exactly as with a SIGSTOPped process.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { DistributedLocks, FakeClock, MemoryLockStore } from '@baton/core';
import { StaleTokenError } from '../src/index.ts';
import { PostgresFence } from '../src/postgres.ts';

const schema = `fence_e2e_${randomBytes(4).toString('hex')}`;
const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
const fence = new PostgresFence({ schema });

beforeAll(async () => {
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.invoices (id int PRIMARY KEY, status text NOT NULL, token bigint NOT NULL)`);
  await pool.query(`INSERT INTO ${schema}.invoices VALUES (42, 'open', 0)`);
  const client = await pool.connect();
  await fence.ensureSchema(client).finally(() => client.release());
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
});

/** The user's write: check the token, then update, in one transaction. */
async function markInvoice(status: string, fencingToken: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await fence.check(client, 'invoice-42', fencingToken);
    await client.query(`UPDATE ${schema}.invoices SET status = $1, token = $2 WHERE id = 42`, [status, fencingToken]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

it('refuses the write of a holder that was paused past its lease, after the next holder wrote', async () => {
  const store = new MemoryLockStore();
  const timings = { leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' };
  const clockA = new FakeClock();
  const clockB = new FakeClock();
  const a = new DistributedLocks({ lockFor: (name, id) => store.lock(name, id), identity: 'worker-a', clock: clockA, random: () => 0, ...timings });
  const b = new DistributedLocks({ lockFor: (name, id) => store.lock(name, id), identity: 'worker-b', clock: clockB, random: () => 0, ...timings });

  const heldByA = await a.get('invoice-42').acquire();
  await markInvoice('sent', heldByA.fencingToken);

  // worker-a is paused (its clock stands still, its timers do not run); worker-b waits out
  // the lease on its own clock and takes over with a larger token.
  const waiting = b.get('invoice-42').acquire();
  await clockB.advanceUntil(() => settled(waiting), 20_000, 100);
  const heldByB = await waiting;
  expect(heldByB.fencingToken).toBeGreaterThan(heldByA.fencingToken);
  await markInvoice('paid', heldByB.fencingToken);

  // worker-a wakes: before its timers run it still thinks it holds the lock, and writes.
  expect(heldByA.signal.aborted).toBe(false);
  await expect(markInvoice('cancelled', heldByA.fencingToken)).rejects.toThrow(StaleTokenError);

  const { rows } = await pool.query(`SELECT status, token::int FROM ${schema}.invoices WHERE id = 42`);
  expect(rows[0]).toEqual({ status: 'paid', token: heldByB.fencingToken });
  await heldByB.release();
  a.close();
  b.close();
});

const states = new WeakMap<Promise<unknown>, boolean>();
/** Whether `promise` has settled (tracked from the first call on). */
function settled(promise: Promise<unknown>): boolean {
  if (!states.has(promise)) {
    states.set(promise, false);
    promise.then(
      () => states.set(promise, true),
      () => states.set(promise, true),
    );
  }
  return states.get(promise)!;
}
