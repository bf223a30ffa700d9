// The README's "A leader's term, end to end" example, compiled by `pnpm typecheck` and run
// here against the real Redis (the election) and PostgreSQL (the fenced ledger) on this
// machine. The region between the markers must appear in README.md verbatim.
//
// Replica A leads and writes; then it stalls between its last check and its next write (the
// test holds its `nextEntry`), its term ends (its elector is stopped: after the grace period
// it releases the lease), replica B takes over with a larger token and writes; A's stalled
// write arrives last, still carrying A's token, and the fence refuses it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, expect, test } from '@jest/globals';
import pg from 'pg';
import { LeaderElector } from '@baton/core';
import { RedisLockFactory } from '@baton/lock-redis';
import { StaleTokenError } from '../src/index.ts';
import { PostgresFence } from '../src/postgres.ts';

const schema = `fence_readme_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1 });
await admin.query(`CREATE SCHEMA ${schema}`);
await admin.query(`CREATE TABLE ${schema}.ledger (entry text NOT NULL, token bigint NOT NULL)`);
// The example's unqualified `ledger` is this test's table.
const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4, options: `-c search_path=${schema}` });
const fence = new PostgresFence({ schema });
{
  const client = await pool.connect();
  await fence.ensureSchema(client).finally(() => client.release());
}
const redis = new RedisLockFactory({ connection: 'redis://127.0.0.1:6379', keyPrefix: `${schema}:` });
const timings = { leaseDuration: '1200ms', renewDeadline: '800ms', retryPeriod: '200ms' };

/** A deferred, so the test waits on events, never on time. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
const aWrote = deferred<void>();
const aStalled = deferred<string>();
const bWrote = deferred<void>();
const refused = deferred<string>();
const calls = new Map<string, number>();
/** The work: A's second entry comes only when the test lets it (the stall); B's second never. */
async function nextEntry(identity: string, signal: AbortSignal): Promise<string> {
  const call = (calls.get(identity) ?? 0) + 1;
  calls.set(identity, call);
  if (call === 1) return `${identity} #1`;
  if (identity === 'replica-a') {
    aWrote.resolve();
    return aStalled.promise;
  }
  bWrote.resolve();
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}
function log(line: string): void {
  refused.resolve(line);
}

// readme:begin
/** The fenced write: the token is checked in the same transaction as the insert. */
async function appendEntry(fencingToken: number, entry: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await fence.check(client, 'ledger', fencingToken); // first, before the writes it guards
    await client.query('INSERT INTO ledger (entry, token) VALUES ($1, $2)', [entry, fencingToken]);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK');
    if (error instanceof StaleTokenError) return false; // a newer term has written: stand down
    throw error;
  } finally {
    client.release();
  }
}

/** One replica: while it leads, every write carries its term's token. */
function replica(identity: string): LeaderElector {
  return new LeaderElector({
    lock: redis.lock('ledger-writer', identity),
    ...timings,
    callbacks: {
      onStartedLeading: async (term) => {
        while (!term.signal.aborted) {
          // This may outlast the term — a GC pause, a slow call, SIGSTOP — and then the write
          // below goes out with an old token, whatever the term's signal says by then.
          const entry = await nextEntry(identity, term.signal);
          if (!(await appendEntry(term.fencingToken, entry))) {
            log(`${identity}: term ${term.fencingToken} was superseded; "${entry}" not written`);
            return;
          }
        }
      },
    },
  });
}
// readme:end

afterAll(async () => {
  await redis.close();
  await pool.end();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
});

test('the README shows the example verbatim', () => {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const region = source.slice(source.indexOf('// readme:begin\n') + 16, source.indexOf('// readme:end'));
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  expect(region.length).toBeGreaterThan(500);
  expect(readme).toContain(region);
});

test('a stalled old leader’s write is refused after the next leader wrote', async () => {
  const stopA = new AbortController();
  const stopB = new AbortController();
  const a = replica('replica-a');
  const runA = a.run(stopA.signal);
  await aWrote.promise; // A leads and wrote its first entry; now it stalls before its second
  const b = replica('replica-b');
  const runB = b.run(stopB.signal);
  stopA.abort(); // A's term ends while it is stalled (the lease is released after the grace period)
  await bWrote.promise; // B leads and wrote its first entry
  aStalled.resolve('replica-a #2 (late)');
  expect(await refused.promise).toMatch(/^replica-a: term \d+ was superseded; "replica-a #2 \(late\)" not written$/);
  stopB.abort();
  await Promise.all([runA, runB]);
  const { rows } = await pool.query<{ entry: string; token: string }>('SELECT entry, token FROM ledger ORDER BY token, entry');
  expect(rows.map((r) => r.entry)).toEqual(['replica-a #1', 'replica-b #1']);
  expect(Number(rows[1]!.token)).toBeGreaterThan(Number(rows[0]!.token));
}, 30_000);
