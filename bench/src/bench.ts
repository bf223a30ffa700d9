// The benchmarks: `pnpm bench [--backend all|lease,endpoints,redis,postgres] [--quick] [--only a,b]`
//
// Every figure is measured side by side in one run, on every backend, and written to
// bench/results/<name>.json, <name>.md (tables) and <name>.svg (chart).
//
// Sections (--only): handover, failover, steady, scale, idle, peers, throughput and floor (the
// last two Redis and PostgreSQL only).
// Flags:
//   --quick          few samples and short windows (what the tests run); default name "quick",
//                    written to a temp dir unless --out is given
//   --out DIR        where results go (default bench/results)
//   --name NAME      file name (default "baton-bench")
//   --merge          re-run only the given --backend/--only and merge them into the existing
//                    <name>.json (recorded under "merged"); tables, chart and verdicts are redone
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadDriver, parseBackends } from './backends/index.ts';
import type { BackendName } from './backends/types.ts';
import { renderChart } from './bench/chart.ts';
import type { BenchContext } from './bench/common.ts';
import { measureIdle, measureScale } from './bench/cost.ts';
import { measureFailover } from './bench/failover.ts';
import { measureFloor } from './bench/floor.ts';
import { measureHandover } from './bench/handover.ts';
import { measurePeers } from './bench/peers.ts';
import { markdown, panels, verdicts } from './bench/report.ts';
import type { BackendResults, BenchResults } from './bench/report.ts';
import { measureSteady } from './bench/steady.ts';
import { hasThroughputPeer, measureThroughput } from './bench/throughput.ts';
import { DEFAULT_PG_URL } from './backends/postgres.ts';
import { tail } from './lib/stats.ts';

export const SECTIONS = ['handover', 'failover', 'steady', 'scale', 'idle', 'peers', 'throughput', 'floor'] as const;
type Section = (typeof SECTIONS)[number];

const PROFILES = {
  full: {
    handover: { samples: 100, pollLanes: 10 },
    // 100 samples: enough for a p99 (below 100 the report labels the tail as the maximum).
    failover: { samples: 100, lanes: 4 },
    steady: { windowMs: 20_000, followers: 10 },
    scale: { elections: 1_000, windowMs: 20_000 },
    idle: { windowMs: 30_000 },
    peers: { cycles: 1_000, handovers: 400, rttSamples: 2_000 },
    throughput: { names: 1_000, inFlight: 64, rounds: 5 },
    floor: { cycles: 1_000, rttSamples: 2_000, soloCycles: 5_000 },
  },
  quick: {
    handover: { samples: 6, pollLanes: 3 },
    failover: { samples: 2, lanes: 1 },
    steady: { windowMs: 2_500, followers: 10 },
    scale: { elections: 50, windowMs: 2_000 },
    idle: { windowMs: 1_500 },
    peers: { cycles: 60, handovers: 30, rttSamples: 200 },
    throughput: { names: 100, inFlight: 16, rounds: 1 },
    floor: { cycles: 60, rttSamples: 200, soloCycles: 100 },
  },
};

export interface BenchOptions {
  backends: BackendName[];
  sections: Section[];
  quick: boolean;
  out: string;
  name: string;
  /** Merge into an existing results file instead of starting a new one. */
  merge?: boolean;
  log: (line: string) => void;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const profile = options.quick ? PROFILES.quick : PROFILES.full;
  const started = new Date();
  const machine = await describeMachine();
  options.log(`machine: ${JSON.stringify(machine)}`);
  const previous = options.merge ? (JSON.parse(readFileSync(join(options.out, `${options.name}.json`), 'utf8')) as BenchResults) : undefined;
  const results: BenchResults = previous ?? {
    name: options.name,
    quick: options.quick,
    startedAt: started.toISOString(),
    finishedAt: '',
    durationS: 0,
    machine,
    backends: {},
    verdicts: [],
  };
  for (const backend of options.backends) {
    const driver = await loadDriver(backend);
    const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
    const dir = mkdtempSync(join(tmpdir(), `baton-bench-${backend}-`));
    const server = await driver.startServer({ dir, runId, log: options.log });
    const ctx: BenchContext = { driver, server, runId, dir, quick: options.quick, log: options.log };
    const r: BackendResults = results.backends[backend] ?? {};
    results.backends[backend] = r;
    if (r.errors) for (const section of options.sections) delete r.errors[section];
    if (r.errors && Object.keys(r.errors).length === 0) delete r.errors;
    try {
      for (const section of options.sections) {
        if (section === 'peers' && backend !== 'redis' && backend !== 'postgres' && backend !== 'etcd') continue;
        if (section === 'throughput' && !hasThroughputPeer(backend)) continue;
        if (section === 'floor' && backend !== 'redis' && backend !== 'postgres') continue;
        const t = performance.now();
        options.log(`[${backend}] ${section}…`);
        try {
          switch (section) {
            case 'handover':
              r.handover = await measureHandover(ctx, profile.handover);
              options.log(`  watch p50 ${r.handover.watch.p50} p99 ${r.handover.watch.p99} ms; polling p50 ${r.handover.poll.p50} p99 ${r.handover.poll.p99} ms`);
              break;
            case 'failover':
              r.failover = await measureFailover(ctx, profile.failover);
              options.log(`  p50 ${r.failover.failover.p50} ${tail(r.failover.failover).label} ${tail(r.failover.failover).value} ms`);
              break;
            case 'steady':
              r.steady = await measureSteady(ctx, profile.steady);
              options.log(`  leader ${r.steady.leaderAlone.leader.perSecond} req/s; 10 followers watching ${r.steady.watching.followers.perSecond}, polling ${r.steady.polling.followers.perSecond} req/s`);
              break;
            case 'scale':
              r.scale = await measureScale(ctx, profile.scale);
              options.log(`  ${JSON.stringify(r.scale)}`);
              break;
            case 'idle':
              r.idle = await measureIdle(ctx, profile.idle);
              options.log(`  ${JSON.stringify({ following: r.idle.following, leading: r.idle.leading })}`);
              break;
            case 'peers':
              r.peers = await measurePeers(ctx, profile.peers);
              for (const c of r.peers.contenders) {
                options.log(`  ${c.name}: uncontended p50 ${c.uncontended.p50} ms (${c.uncontendedVsTwoRtt}× 2 RTT), handover p50 ${c.handover.p50} p99 ${c.handover.p99} ms${c.error ? ` ERROR ${c.error}` : ''}`);
              }
              break;
            case 'floor':
              r.floor = await measureFloor(ctx, profile.floor);
              for (const row of r.floor.rows) {
                options.log(`  ${row.name}: p50 ${row.uncontended.p50} ms (${row.vsTwoRtt}× 2 RTT${row.vsPeer === undefined ? '' : `, ${row.vsPeer}× the peer`}), CPU ${row.clientCpuMicros} µs here, ${row.serverCpuMicros ?? 'n/a'} µs at the server${row.error ? ` ERROR ${row.error}` : ''}`);
              }
              break;
            case 'throughput':
              r.throughput = await measureThroughput(ctx, profile.throughput);
              for (const c of r.throughput.contenders) {
                options.log(`  ${c.name}: ${c.operationsPerSecond} ops/s, ${c.cpuMicrosPerOperation} µs CPU/op${c.error ? ` ERROR ${c.error}` : ''}`);
              }
              break;
          }
        } catch (error) {
          (r.errors ??= {})[section] = String((error as Error)?.stack ?? error);
          options.log(`  ${section} failed: ${String((error as Error)?.message ?? error)}`);
        }
        options.log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
      }
    } finally {
      await server.stop().catch(() => {});
    }
  }
  const finished = new Date();
  if (previous) {
    (results.merged ??= []).push({ at: started.toISOString(), backends: options.backends, sections: options.sections, machine });
  } else {
    results.finishedAt = finished.toISOString();
    results.durationS = Math.round((finished.getTime() - started.getTime()) / 1000);
  }
  results.verdicts = verdicts(results.backends);
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, `${options.name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(options.out, `${options.name}.md`), `${markdown(results)}\n`);
  const subtitle = `${results.startedAt.slice(0, 16).replace('T', ' ')} UTC · ${String(machine.cpu)} × ${String(machine.cores)} · ${String(machine.node)} · loopback`;
  writeFileSync(join(options.out, `${options.name}.svg`), renderChart('baton: handover, failover and lock latency', subtitle, panels(results)));
  return results;
}

async function describeMachine(): Promise<Record<string, unknown>> {
  const redis = spawnSync('redis-server', ['--version']).stdout?.toString().match(/v=(\S+)/)?.[1] ?? 'unknown';
  let postgres = 'unknown';
  try {
    const client = new pg.Client({ connectionString: DEFAULT_PG_URL });
    await client.connect();
    postgres = ((await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? 'unknown').split(' ')[0]!;
    await client.end();
  } catch {
    // not reachable: recorded as unknown
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    redis,
    postgres,
    loadAverageAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'all' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      name: { type: 'string' },
      merge: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: pnpm bench [--backend all|lease,endpoints,redis,postgres] [--only ${SECTIONS.join(',')}] [--quick] [--out DIR] [--name NAME] [--merge]\n`);
    process.exit(0);
  }
  const sections = (values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS]) as Section[];
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}" (${SECTIONS.join(', ')})`);
  const out = values.out ?? (values.quick ? mkdtempSync(join(tmpdir(), 'baton-bench-quick-')) : new URL('../results', import.meta.url).pathname);
  const name = values.name ?? (values.quick ? 'quick' : 'baton-bench');
  const results = await runBench({ backends: parseBackends(values.backend), sections, quick: values.quick, out, name, merge: values.merge, log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`\n${markdown(results)}\n\nwritten: ${join(out, name)}.{json,md,svg}\n`);
  process.exit(0);
}
