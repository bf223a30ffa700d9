// The semaphore / reader-writer harness (issue 18): candidate processes
// (primitive-candidate.ts), each reaching the backend through its own TCP proxy, take permits,
// reads and writes on one backend while the run pauses them (SIGSTOP for longer than a
// lease), kills them (SIGKILL, then a fresh process), cuts their proxy (every connection
// reset, new ones refused, for longer than a lease) or delays it (each way, up to 1.3 ×
// renewDeadline, for two leases); then primitive-checker.ts judges the recorded history:
// never more than N permit holders, never a writer beside anyone, tokens strictly increasing
// in grant order.
//
//   node bench/src/harness/primitive-run.ts --backend redis|postgres|lease|endpoints|etcd
//     --mode semaphore|rw [--seconds 30] [--candidates 5] [--permits 2] [--seed 1] [--out DIR]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TcpProxy } from '@baton/testkit';
import { loadDriver } from '../backends/index.ts';
import { now, sleep } from '../lib/clock.ts';
import { Prng } from '../lib/prng.ts';
import { checkPrimitives } from './primitive-checker.ts';
import type { PrimitiveEvent } from './primitive-checker.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'redis' },
    mode: { type: 'string', default: 'semaphore' },
    seconds: { type: 'string', default: '30' },
    candidates: { type: 'string', default: '5' },
    permits: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const mode = values.mode === 'rw' ? 'rw' : 'semaphore';
const backend = values.backend!;
const permits = Number(values.permits);
const candidates = Number(values.candidates);
const seconds = Number(values.seconds);
const prng = new Prng(Number(values.seed));
const timings = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 250 };
const dir = mkdtempSync(join(tmpdir(), 'baton-prims-harness-'));
// The dedicated PostgreSQL cluster runs as the postgres user, in a directory below this one.
chmodSync(dir, 0o755);
const historyFile = join(dir, 'history.jsonl');
const runId = Date.now().toString(36);
const log = (line: string): void => console.log(line);

mkdirSync(join(dir, 'server'));
const driver = await loadDriver(backend);
// A dedicated PostgreSQL cluster, as the mutex harness uses: nothing else shares its sessions.
const server = await driver.startServer({ dir: join(dir, 'server'), runId, log, dedicatedPostgres: true });
const candidateFile = join(import.meta.dirname, 'primitive-candidate.ts');
const children: Array<ChildProcess | undefined> = [];
const proxies: TcpProxy[] = [];
const faults: string[] = [];
const faultsByKind: Record<string, number> = {};
const fault = (kind: string, line: string): void => {
  faults.push(line);
  faultsByKind[kind] = (faultsByKind[kind] ?? 0) + 1;
};

const spawnCandidate = (slot: number): void => {
  const child = spawn(process.execPath, [candidateFile], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      BATON_BACKEND: backend,
      BATON_CONNECT: JSON.stringify(server.connectInfo({ host: '127.0.0.1', port: proxies[slot]!.port })),
      BATON_LOCK: `prims-${mode}-${runId}`,
      BATON_IDENTITY: `c${slot}`,
      BATON_TIMINGS: JSON.stringify(timings),
      BATON_MODE: mode,
      BATON_PERMITS: String(permits),
      BATON_HISTORY: historyFile,
    },
  });
  children[slot] = child;
};

try {
  for (let i = 0; i < candidates; i++) {
    const proxy = new TcpProxy(server.address);
    await proxy.start();
    proxies[i] = proxy;
    spawnCandidate(i);
  }
  const endAt = now() + seconds * 1000;
  await sleep(3000);
  const kinds = ['sigstop', 'sigkill', 'proxy-cut', 'proxy-delay'] as const;
  let round = 0;
  while (now() < endAt - 4000) {
    const slot = Math.floor(prng.next() * candidates);
    const child = children[slot]!;
    const proxy = proxies[slot]!;
    // Every kind once first (so even a short run injects each), then at random.
    const kind = round < kinds.length ? kinds[round]! : kinds[Math.floor(prng.next() * kinds.length)]!;
    round++;
    const at = Math.round(now());
    if (kind === 'sigstop') {
      // Paused for longer than a lease: others must take its place only after it stopped acting.
      const pauseMs = timings.leaseDurationMs * (1.2 + prng.next());
      fault(kind, `SIGSTOP c${slot} for ${Math.round(pauseMs)} ms at ${at}`);
      child.kill('SIGSTOP');
      await sleep(pauseMs);
      child.kill('SIGCONT');
    } else if (kind === 'sigkill') {
      fault(kind, `SIGKILL c${slot} at ${at}`);
      child.kill('SIGKILL');
      await sleep(300);
      spawnCandidate(slot);
    } else if (kind === 'proxy-cut') {
      // Cut off for longer than a lease: the holder must stop acting (renewDeadline) before
      // anyone takes its place (the lease, or the server ending its session).
      const cutMs = timings.leaseDurationMs * (1.2 + prng.next());
      fault(kind, `proxy cut c${slot} for ${Math.round(cutMs)} ms at ${at}`);
      proxy.cut();
      await sleep(cutMs);
      proxy.heal();
    } else {
      // Slow both ways, sometimes beyond renewDeadline: renewals that arrive late must not
      // leave a holder acting on a lease it no longer has.
      const delayMs = Math.round(timings.renewDeadlineMs * (0.05 + 1.25 * prng.next()));
      fault(kind, `proxy delay c${slot} +${delayMs} ms each way for ${2 * timings.leaseDurationMs} ms at ${at}`);
      proxy.setDelay(delayMs);
      await sleep(2 * timings.leaseDurationMs);
      proxy.heal();
    }
    await sleep(1000 + prng.next() * 2000);
  }
  await sleep(Math.max(0, endAt - now()));
} finally {
  for (const child of children) child?.kill('SIGTERM');
  await Promise.all(children.map((c) => (c && c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await server.stop();
}

const events = readFileSync(historyFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as PrimitiveEvent);
const verdict = checkPrimitives(events, mode, permits);
const errorEvents = events.filter((e) => e.ev === 'error') as Array<PrimitiveEvent & { message?: string }>;
const errors = errorEvents.length;
const errorSamples = [...new Set(errorEvents.map((e) => String(e.message).slice(0, 200)))].slice(0, 5);
const result = { backend, mode, permits, candidates, seconds, seed: prng.seed, timings, faultsByKind, faults, errors, errorSamples, ...verdict };
const out = values.out ?? join(import.meta.dirname, '..', '..', 'results');
writeFileSync(join(out, `harness-${mode}-${backend}.json`), JSON.stringify(result, null, 2));
rmSync(dir, { recursive: true, force: true });
log(JSON.stringify({ ...result, faults: faults.length }, null, 1));
process.exit(verdict.violations.length === 0 && verdict.holds > 0 ? 0 : 1);
