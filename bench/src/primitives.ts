// Semaphore and reader-writer figures (issue 18): `node bench/src/primitives.ts [--quick] [--out DIR]`
// Writes <out>/primitives.json and primitives.md (default bench/results).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDriver } from './backends/index.ts';
import { measureNativeSemaphore, measureReadWrite, measureSemaphores } from './bench/primitives.ts';
import type { Figure, PrimitiveOptions, PrimitiveResults } from './bench/primitives.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' } } });
const options: PrimitiveOptions = values.quick
  ? { cycles: 100, windowMs: 2_000, permits: 3, workers: 8 }
  : { cycles: 500, windowMs: 5_000, permits: 3, workers: 8 };
const out = values.out ?? join(import.meta.dirname, '..', 'results');
const runId = Date.now().toString(36);
const dir = mkdtempSync(join(tmpdir(), 'baton-primitives-'));
const log = (line: string): void => console.log(line);

const load = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);
const results: PrimitiveResults & { startedAt: string; options: PrimitiveOptions; loadAverage: { start: number[]; end?: number[] } } = {
  startedAt: new Date().toISOString(),
  options,
  loadAverage: { start: load() },
  readWrite: [],
};
for (const backend of ['redis', 'postgres'] as const) {
  const driver = await loadDriver(backend);
  mkdirSync(join(dir, backend));
  const server = await driver.startServer({ dir: join(dir, backend), runId, log });
  try {
    if (backend === 'redis') {
      log('semaphore: baton vs redis-semaphore');
      results.semaphore = await measureSemaphores(driver, server, runId, options);
    }
    if (backend === 'postgres') {
      log('semaphore on postgres: native vs slot records');
      results.postgresSemaphore = await measureNativeSemaphore(driver, server, runId, options);
    }
    log(`reader-writer vs mutex on ${backend}`);
    results.readWrite.push(await measureReadWrite(driver, server, runId, options));
  } finally {
    await server.stop();
  }
}
rmSync(dir, { recursive: true, force: true });
results.loadAverage.end = load();

const row = (f: Figure): string =>
  `| ${f.name} | ${f.operations} | ${f.operationsPerSecond} | ${f.latency.p50} | ${f.latency.p99} |${f.error ? ` ${f.error}` : ''}`;
const header = '| | operations | ops/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: |';
const sem = results.semaphore!;
const md = [
  `# Semaphores and reader-writer locks (${results.startedAt}${values.quick ? ', quick' : ''})`,
  '',
  `Load average (1, 5, 15 min) at the start ${results.loadAverage.start.join(', ')}, at the end ${results.loadAverage.end.join(', ')} (2 cores, shared).`,
  '',
  `## Semaphore acquire+release on one redis-server (permits ${sem.permits})`,
  '',
  'One caller, one after another:',
  '',
  header,
  ...sem.uncontended.map(row),
  '',
  `Contended: ${sem.workers} workers, each with its own client, for ${options.windowMs} ms:`,
  '',
  header,
  ...sem.contended.map(row),
  '',
  `Ratios baton / redis-semaphore: ${JSON.stringify(sem.ratios)}`,
  '',
  ...(results.postgresSemaphore
    ? [
        `## Semaphore acquire+release on PostgreSQL (permits ${results.postgresSemaphore.permits}): native against slot records`,
        '',
        'One caller, one after another:',
        '',
        header,
        ...results.postgresSemaphore.uncontended.map(row),
        '',
        `Contended: ${results.postgresSemaphore.workers} workers, each with its own factory, for ${options.windowMs} ms:`,
        '',
        header,
        ...results.postgresSemaphore.contended.map(row),
        '',
        `Ratios native / slot records: ${JSON.stringify(results.postgresSemaphore.ratios)}`,
        '',
      ]
    : []),
  '## Reader-writer against the mutex, one caller',
  '',
  ...results.readWrite.flatMap((r) => [`### ${r.backend}`, '', header, ...r.figures.map(row), '', `Ratios: ${JSON.stringify(r.ratios)}`, '']),
].join('\n');
writeFileSync(join(out, 'primitives.json'), JSON.stringify(results, null, 2));
writeFileSync(join(out, 'primitives.md'), md + '\n');
log(md);
