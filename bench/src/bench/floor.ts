// The floor section: where one uncontended acquire+release spends its time. A ladder of
// ever less work, each rung measured as the peers section measures (every rung and the raw
// round trip taking turns in the same rounds, so their ratios share the machine's state):
//
//   baton in full (DistributedLocks) → baton's adapter alone (its ResourceLock calls, no
//   core) → [Redis] baton's two scripts sent raw → the least a fenced lock must do (take the
//   lock, count a token, tell watchers; let go, tell watchers) → the best peer's commands sent
//   raw → [Redis] the best peer in full.
//
// The gaps between rungs say what each layer costs: core's lease and handle, the adapter's
// client code, the server work of what baton stores (a record of seven fields, a token that
// only grows, a change message), and how far a lock with every guarantee kept can get. After
// the rounds, each rung runs alone for a while so its CPU per cycle — this process's, and the
// server's when the run owns it — is measured too.
import { createHash } from 'node:crypto';
import type { ResourceLock } from '@baton/core';
import { lockKeys, REDIS_LOCK_DEFAULTS } from '@baton/lock-redis';
import type { Redis } from 'ioredis';
import pg from 'pg';
// The scripts baton runs, as the package embeds them (the bench is part of the workspace).
import { ACQUIRE_LUA } from '../../../packages/lock-redis/src/scripts/acquire.lua.ts';
import { PATCH_LUA } from '../../../packages/lock-redis/src/scripts/patch.lua.ts';
import { processCpuMicros } from '../lib/process-cpu.ts';
import { round, summarize } from '../lib/stats.ts';
import { ms } from './verdict.ts';
import type { Summary } from '../lib/stats.ts';
import { DEFAULTS } from './common.ts';
import type { BenchContext } from './common.ts';
import { interleavedUncontended, WARM_UP } from './interleaved.ts';
import type { Contender, Worker } from './peer-contender.ts';
import { batonContender, probePostgres, probeRedis, redisClient, redisClients, redisSemaphore } from './peers.ts';

export interface FloorRow {
  name: string;
  /** What one acquire+release sends. */
  what: string;
  /** One acquire + release, ms. */
  uncontended: Summary;
  /** p50 ÷ (2 × RTT p50). */
  vsTwoRtt: number;
  /** p50 ÷ the peer rung's p50, when the ladder ends in a peer (Redis: redis-semaphore). */
  vsPeer?: number;
  /** This process's CPU per cycle, the rung running alone, µs. */
  clientCpuMicros?: number;
  /** The server process's CPU per cycle, the rung running alone (a server the run started), µs. */
  serverCpuMicros?: number;
  error?: string;
}

export interface FloorResult {
  backend: 'redis' | 'postgres';
  rtt: Summary;
  /** Cycles each rung ran alone for its CPU figures. */
  soloCycles: number;
  rows: FloorRow[];
}

interface Rung extends Contender {
  what: string;
  /** The peer the ratios are to. */
  peer?: boolean;
}

/** The ladder on Redis or PostgreSQL (see the file comment); each rung its own resource. */
export async function measureFloor(ctx: BenchContext, options: { cycles: number; rttSamples: number; soloCycles: number }): Promise<FloorResult> {
  const backend = ctx.driver.name;
  if (backend !== 'redis' && backend !== 'postgres') throw new Error(`no floor on ${backend}`);
  const { rungs, cleanup } = backend === 'redis' ? { rungs: redisRungs(ctx), cleanup: async () => {} } : postgresRungs(ctx);
  const probe = backend === 'redis' ? await probeRedis(ctx) : await probePostgres(ctx);
  const resourceOf = (i: number): string => `floor${i}-${ctx.runId}`;
  try {
    ctx.log(`    floor: ${rungs.length} rungs and the round trip taking turns`);
    const { rtt, uncontended } = await interleavedUncontended(probe, rungs, resourceOf, options.cycles, options.rttSamples);
    const peerIndex = rungs.findIndex((r) => r.peer);
    const peer = peerIndex < 0 ? undefined : uncontended[peerIndex];
    const rows: FloorRow[] = [];
    for (const [i, rung] of rungs.entries()) {
      const u = uncontended[i]!;
      if (u instanceof Error) {
        rows.push({ name: rung.name, what: rung.what, uncontended: summarize([]), vsTwoRtt: NaN, error: u.message });
        continue;
      }
      const cpu = await alone(ctx, rung, resourceOf(i), options.soloCycles).catch(() => undefined);
      rows.push({
        name: rung.name,
        what: rung.what,
        uncontended: u,
        vsTwoRtt: round(u.p50 / (2 * rtt.p50), 2),
        ...(peer && !(peer instanceof Error) ? { vsPeer: round(u.p50 / peer.p50, 2) } : {}),
        ...cpu,
      });
    }
    return { backend, rtt, soloCycles: options.soloCycles, rows };
  } finally {
    for (const rung of rungs) await rung.close().catch(() => {});
    await cleanup().catch(() => {});
  }
}

/** `cycles` acquire+release of one rung alone, after a warm-up: CPU per cycle here and at the server. */
async function alone(ctx: BenchContext, rung: Rung, resource: string, cycles: number): Promise<{ clientCpuMicros: number; serverCpuMicros?: number }> {
  const worker = await rung.worker(200);
  try {
    for (let i = 0; i < WARM_UP; i++) await (await worker.acquire(resource))();
    const serverBefore = processCpuMicros(ctx.server.pid);
    const before = process.cpuUsage();
    for (let i = 0; i < cycles; i++) await (await worker.acquire(resource))();
    const cpu = process.cpuUsage(before);
    const serverAfter = processCpuMicros(ctx.server.pid);
    const server = serverBefore === undefined || serverAfter === undefined ? undefined : round((serverAfter - serverBefore) / cycles, 1);
    return { clientCpuMicros: round((cpu.user + cpu.system) / cycles, 1), ...(server === undefined ? {} : { serverCpuMicros: server }) };
  } finally {
    await worker.close();
  }
}

/** baton's ResourceLock calls alone: acquireIfFree, then release (or update) with the released record. */
function adapterRung(ctx: BenchContext, what: string): Rung {
  const factories: Array<{ close(): Promise<void> }> = [];
  return {
    name: `baton's adapter alone (@baton/lock-${ctx.driver.name})`,
    settings: 'ResourceLock.acquireIfFree, then release (or update) of the released record: no DistributedLocks, no lease, no handle',
    what,
    async worker(index) {
      const factory = await ctx.driver.openFactory(ctx.server.connectInfo(), { timings: DEFAULTS, label: `floor${index}` });
      factories.push(factory);
      const locks = new Map<string, ResourceLock>();
      return {
        async acquire(resource) {
          let lock = locks.get(resource);
          if (lock === undefined) locks.set(resource, (lock = factory.lock(resource, `floor${index}`)));
          const at = Date.now();
          const got = await lock.acquireIfFree!({ holderIdentity: lock.identity, leaseDurationMs: DEFAULTS.leaseDurationMs, acquireTime: at, renewTime: at, leaderTransitions: 0, fencingToken: 0 });
          if (!got.acquired) throw new Error(`${resource} is held by ${got.snapshot.record.holderIdentity}`);
          const held = lock;
          const released = { ...got.snapshot.record, holderIdentity: '', renewTime: Date.now() };
          return async () => void (await (held.release ? held.release(released, got.snapshot.version) : held.update(released, got.snapshot.version)));
        },
        async close() {
          for (const lock of locks.values()) await lock.close?.();
        },
      };
    },
    close: async () => void (await Promise.all(factories.splice(0).map((f) => f.close()))),
  };
}

/** A rung whose every worker has one connection of its own, opened by `open`. */
function rawRung<C>(name: string, what: string, open: () => Promise<C>, cycle: (client: C, resource: string) => Promise<() => Promise<void>>, end: (client: C) => Promise<void>): Rung {
  const clients: C[] = [];
  return {
    name,
    settings: 'sent raw on one connection per worker',
    what,
    async worker(): Promise<Worker> {
      const client = await open();
      clients.push(client);
      return { acquire: (resource) => cycle(client, resource), close: async () => {} };
    },
    close: async () => void (await Promise.all(clients.splice(0).map((c) => end(c).catch(() => {})))),
  };
}

/** Acquire: take the key unless present, count the token, publish. Release: compare, publish, delete. */
const FENCED_ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2]); redis.call('PUBLISH', ARGV[3], ARGV[1] .. ' ' .. token); return token end
return false`;
const FENCED_RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PUBLISH', ARGV[2], ''); return redis.call('DEL', KEYS[1]) end
return 0`;
/** redis-semaphore's release: compare and delete. */
const COMPARE_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const SCRIPTS = { acquire: ACQUIRE_LUA, patch: PATCH_LUA, fencedAcquire: FENCED_ACQUIRE, fencedRelease: FENCED_RELEASE, compareDelete: COMPARE_DELETE };
/** Each script's SHA1, for EVALSHA (every raw rung's connection loads them first, as the clients do once). */
const SHA = Object.fromEntries(Object.entries(SCRIPTS).map(([name, lua]) => [name, createHash('sha1').update(lua).digest('hex')])) as Record<keyof typeof SCRIPTS, string>;

function redisRungs(ctx: BenchContext): Rung[] {
  const open = async (): Promise<Redis> => {
    const client = redisClient(ctx);
    for (const lua of Object.values(SCRIPTS)) await client.script('LOAD', lua);
    return client;
  };
  const end = async (client: Redis): Promise<void> => void (await client.quit());
  const lease = String(DEFAULTS.leaseDurationMs);
  const expiry = String(10 * DEFAULTS.leaseDurationMs);
  let version = 0;
  return [
    { ...batonContender(ctx, ctx.driver), what: 'acquire.lua (record, token, change message), then patch.lua (the release), through the lease and handle of core' },
    adapterRung(ctx, 'the same two scripts through RedisLock, no core'),
    rawRung('baton\'s scripts, sent raw', 'acquire.lua and patch.lua with the arguments baton sends, by EVALSHA', open, async (client, resource) => {
      const keys = lockKeys(REDIS_LOCK_DEFAULTS.keyPrefix, resource);
      const taken = `v${++version}`;
      const at = String(Date.now());
      const reply = (await client.evalsha(SHA.acquire, 2, keys.record, keys.fence, taken, 'w0', lease, at, at, '0', '0', expiry, keys.channel, '"w0"')) as string[];
      if (reply[0] !== 'acquired') throw new Error(`acquire.lua: ${reply.join(' ')}`);
      return async () => {
        const freed = `v${++version}`;
        const message = `{"holderIdentity":"","leaseDurationMs":"${lease}","acquireTime":"${at}","renewTime":"${Date.now()}","leaderTransitions":"${reply[2]}","fencingToken":"${reply[1]}","version":"${freed}"}`;
        const patched = (await client.evalsha(SHA.patch, 2, keys.record, keys.fence, taken, '', keys.channel, message, 'version', freed, 'holderIdentity', '')) as string[];
        if (patched[0] !== 'ok') throw new Error(`patch.lua: ${patched.join(' ')}`);
      };
    }, end),
    rawRung('a fenced minimum, sent raw', 'one script: SET NX PX, INCR a token, PUBLISH; one script: GET, compare, PUBLISH, DEL', open, async (client, resource) => {
      const key = `floor:${resource}`;
      const token = await client.evalsha(SHA.fencedAcquire, 2, key, `${key}:fence`, 'w0', lease, `${key}:changes`);
      if (token === null) throw new Error(`${key} is held`);
      return async () => void (await client.evalsha(SHA.fencedRelease, 1, key, 'w0', `${key}:changes`));
    }, end),
    rawRung('redis-semaphore\'s commands, sent raw', 'SET NX PX; one script: GET, compare, DEL (no token, no message)', open, async (client, resource) => {
      const key = `floor:${resource}`;
      if ((await client.set(key, 'w0', 'PX', DEFAULTS.leaseDurationMs, 'NX')) === null) throw new Error(`${key} is held`);
      return async () => void (await client.evalsha(SHA.compareDelete, 1, key, 'w0'));
    }, end),
    {
      ...redisSemaphore(redisClients(ctx)),
      what: 'the peer in full: SET NX PX; its release script',
      peer: true,
    },
  ];
}

function postgresRungs(ctx: BenchContext): { rungs: Rung[]; cleanup(): Promise<void> } {
  const url = String(ctx.server.connectInfo().url);
  const table = `bench_floor_${ctx.runId}`;
  let created: Promise<void> | undefined;
  const open = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-floor' });
    await client.connect();
    created ??= client.query(`CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, holder text NOT NULL, token bigint NOT NULL)`).then(() => {});
    await created;
    return client;
  };
  const end = (client: pg.Client): Promise<void> => client.end();
  const asyncCommit = `pg_catalog.set_config('synchronous_commit', 'off', true)`;
  /** One row per resource, a one-row UPDATE under the advisory lock, with or without NOTIFY. */
  const seeded = new WeakMap<pg.Client, Set<string>>();
  const bones = (notify: boolean) => async (client: pg.Client, resource: string): Promise<() => Promise<void>> => {
    const key = hashKey(resource);
    const rows = seeded.get(client) ?? new Set<string>();
    seeded.set(client, rows);
    if (!rows.has(resource)) {
      await client.query(`INSERT INTO ${table} VALUES ($1, '', 0) ON CONFLICT (name) DO NOTHING`, [resource]);
      rows.add(resource);
    }
    const told = notify ? `, pg_catalog.pg_notify('floor', u.token::text)` : '';
    const taken = await client.query({
      name: `floor-acquire-${notify}`,
      text: `WITH l AS (SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS got),
        u AS (UPDATE ${table} f SET holder = $2, token = f.token + 1 FROM l WHERE l.got AND f.name = $3 RETURNING f.token)
        SELECT u.token${told}, ${asyncCommit} FROM u`,
      values: [key, 'w0', resource],
    });
    if (taken.rowCount !== 1) throw new Error(`${resource} is held`);
    return async () => {
      const toldFree = notify ? `, pg_catalog.pg_notify('floor', '')` : '';
      await client.query({
        name: `floor-release-${notify}`,
        text: `WITH u AS (UPDATE ${table} SET holder = '' WHERE name = $2 AND holder = $3 RETURNING 1)
          SELECT pg_catalog.pg_advisory_unlock($1::bigint)${toldFree}, ${asyncCommit} FROM u`,
        values: [key, resource, 'w0'],
      });
    };
  };
  const cleanup = async (): Promise<void> => {
    if (created === undefined) return;
    const client = await open();
    await client.query(`DROP TABLE IF EXISTS ${table}`).finally(() => client.end());
  };
  const rungs = [
    { ...batonContender(ctx, ctx.driver), what: 'acquireIfFree (one statement), then the release (one statement), through the lease and handle of core' },
    adapterRung(ctx, 'the same two statements through PostgresLock, no core'),
    rawRung('one write and NOTIFY each way, sent raw', 'try-lock + one-row UPDATE + NOTIFY; UPDATE + unlock + NOTIFY (prepared, asynchronous commit)', open, bones(true), end),
    rawRung('one write each way, no NOTIFY, sent raw', 'try-lock + one-row UPDATE; UPDATE + unlock (prepared, asynchronous commit)', open, bones(false), end),
    rawRung('advisory-lock\'s statements on a kept connection', 'pg_try_advisory_lock; pg_advisory_unlock (no record, no token, no notification)', open, async (client, resource) => {
      const key = hashKey(resource);
      const got = await client.query<{ got: boolean }>({ name: 'floor-try', text: 'SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS got', values: [key] });
      if (!got.rows[0]?.got) throw new Error(`${resource} is held`);
      return async () => void (await client.query({ name: 'floor-unlock', text: 'SELECT pg_catalog.pg_advisory_unlock($1::bigint)', values: [key] }));
    }, end),
  ];
  return { rungs, cleanup };
}

/** A stable 31-bit advisory-lock key for a resource name. */
function hashKey(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return String(h & 0x7fffffff);
}

/** The ladder as a table: each rung's p50 and p99, its ratios, its CPU per cycle. */
export function floorTable(backend: string, f: FloorResult): string[] {
  const probe = backend === 'redis' ? 'PING' : 'SELECT 1';
  const peer = f.rows.some((r) => r.vsPeer !== undefined);
  const lines = [
    `## Where an uncontended acquire+release goes on ${backend} (one run; RTT p50 ${ms(f.rtt.p50)} ms — ${probe})`,
    '',
    'From baton in full down to the least that keeps a fencing token and a change message, and the peer. The rungs and the round trip take turns in 20 rounds, as in the peers table; the CPU figures come from each rung running alone afterwards ' +
      `(${f.soloCycles} cycles; the server's only when the run started it, in 10 ms ticks).`,
    '',
    `| rung | one acquire+release sends | p50 ms | p99 ms | ÷ 2 RTT |${peer ? ' ÷ peer |' : ''} client CPU µs | server CPU µs |`,
    `|---|---|---|---|---|${peer ? '---|' : ''}---|---|`,
  ];
  for (const r of f.rows) {
    if (r.error) {
      lines.push(`| ${r.name} | error: ${r.error} | | | |${peer ? ' |' : ''} | |`);
      continue;
    }
    const cpu = (v: number | undefined): string => (v === undefined ? 'n/a' : String(v));
    lines.push(`| ${r.name} | ${r.what} | ${ms(r.uncontended.p50)} | ${ms(r.uncontended.p99)} | ${r.vsTwoRtt} |${peer ? ` ${r.vsPeer ?? ''} |` : ''} ${cpu(r.clientCpuMicros)} | ${cpu(r.serverCpuMicros)} |`);
  }
  lines.push('');
  return lines;
}
