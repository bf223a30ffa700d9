#!/usr/bin/env node
// `scripts/pnpm bench:install`: what a Redis-only user pays for baton, as ratios measured in
// one run against the nearest alternative, written to bench/results/install-footprint.{json,md}.
//
// - Install size: `npm install` of @baton/core + @baton/lock-redis (this workspace's tarballs)
//   + ioredis, against ioredis + redis-semaphore — bytes of every file under node_modules.
//   Budget: ≤ 1.5×.
// - Import time: `await import('@baton/lock-redis')` against `await import('ioredis')`, each in a
//   fresh Node process (the project's Node 24), timed inside the process around the import,
//   interleaved rounds, median. Budget: ≤ 1.5×.
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmInstall, run, writeProject } from './consumer/project.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = join(root, 'node_modules', 'node', 'bin', 'node');
const IOREDIS = '6.0.0';
const REDIS_SEMAPHORE = '5.8.0';
const ROUNDS = 21;
const BUDGET = 1.5;

async function bytesUnder(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function importMs(cwd, specifier) {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(node, ['--input-type=module', '-e', script], { cwd });
  return Number(stdout);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const work = await mkdtemp(join(tmpdir(), 'baton-bench-install-'));
try {
  const tarballs = join(work, 'tarballs');
  await run(join(root, 'scripts', 'pnpm'), ['-r', '--filter', '@baton/core', '--filter', '@baton/lock-redis', 'pack', '--pack-destination', tarballs], { cwd: root, timeoutMs: 240_000 });
  const files = await readdir(tarballs);
  const tarball = (name) => join(tarballs, files.find((f) => f.startsWith(`baton-${name}-`)));

  const baton = join(work, 'baton');
  const baseline = join(work, 'baseline');
  await writeProject(baton, { '@baton/core': `file:${tarball('core')}`, '@baton/lock-redis': `file:${tarball('lock-redis')}`, ioredis: IOREDIS });
  await writeProject(baseline, { ioredis: IOREDIS, 'redis-semaphore': REDIS_SEMAPHORE });
  await Promise.all([npmInstall(baton), npmInstall(baseline)]);
  // The tarballs' own copies (npm keeps file: dependencies' tarballs out of node_modules) are not counted.
  const batonBytes = await bytesUnder(join(baton, 'node_modules'));
  const baselineBytes = await bytesUnder(join(baseline, 'node_modules'));

  const lockRedis = [];
  const ioredis = [];
  await importMs(baton, '@baton/lock-redis'); // warm the file system cache for both
  await importMs(baton, 'ioredis');
  for (let i = 0; i < ROUNDS; i++) {
    lockRedis.push(await importMs(baton, '@baton/lock-redis'));
    ioredis.push(await importMs(baton, 'ioredis'));
  }
  const nodeVersion = (await run(node, ['--version'])).stdout.trim();
  const result = {
    measuredAt: new Date().toISOString(),
    node: nodeVersion,
    installSize: {
      baton: { packages: ['@baton/core', '@baton/lock-redis', `ioredis@${IOREDIS}`], bytes: batonBytes },
      baseline: { packages: [`ioredis@${IOREDIS}`, `redis-semaphore@${REDIS_SEMAPHORE}`], bytes: baselineBytes },
      ratio: batonBytes / baselineBytes,
      budget: BUDGET,
    },
    importTime: {
      rounds: ROUNDS,
      lockRedisMedianMs: median(lockRedis),
      ioredisMedianMs: median(ioredis),
      ratio: median(lockRedis) / median(ioredis),
      budget: BUDGET,
    },
  };
  const out = join(root, 'bench', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'install-footprint.json'), `${JSON.stringify(result, null, 2)}\n`);
  const mb = (b) => (b / 1e6).toFixed(2);
  const md = `# Install footprint of a Redis-only application (${nodeVersion}, one run)

| | baton | baseline | ratio | budget |
| --- | --- | --- | --- | --- |
| \`npm install\` size | ${mb(batonBytes)} MB (@baton/core, @baton/lock-redis, ioredis ${IOREDIS}) | ${mb(baselineBytes)} MB (ioredis ${IOREDIS}, redis-semaphore ${REDIS_SEMAPHORE}) | ${result.installSize.ratio.toFixed(2)}× | ≤ ${BUDGET}× |
| import time, median of ${ROUNDS} fresh processes | ${result.importTime.lockRedisMedianMs.toFixed(1)} ms (\`import('@baton/lock-redis')\`, ioredis included) | ${result.importTime.ioredisMedianMs.toFixed(1)} ms (\`import('ioredis')\`) | ${result.importTime.ratio.toFixed(2)}× | ≤ ${BUDGET}× |

Written by \`scripts/pnpm bench:install\` (scripts/bench-install.mjs).
`;
  await writeFile(join(out, 'install-footprint.md'), md);
  process.stdout.write(md);
  const over = [result.installSize.ratio, result.importTime.ratio].some((r) => r > BUDGET);
  if (over) {
    process.stderr.write('bench:install: over budget\n');
    process.exitCode = 1;
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
