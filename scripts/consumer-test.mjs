#!/usr/bin/env node
// The consumer test: baton as a user gets it from npm. Part of `scripts/pnpm test`.
//
// 1. `pnpm -r pack` every package (prepack builds from scratch), into a new temp directory.
// 2. `npm install` the tarballs into fresh projects outside the workspace:
//    - "full": every package, with ioredis 6 and the other client libraries;
//    - "redis": only @baton/core + @baton/lock-redis + ioredis 5.9.0 (the low end of the peer range).
// 3. Checks, on Node 24 (the project's) and on the lowest Node each package's `engines`
//    allows (20.19.0; 22.19.0 for the Kubernetes packages, whose client needs it):
//    ESM import and CJS require of every library package; `tsc` with skipLibCheck: false over
//    every README TypeScript example (verbatim) and the user apps; the user's ioredis 5 and 6
//    clients; `npx baton --help` and a short demo; esbuild bundles of a Redis, a PostgreSQL
//    and a Lease app run from a directory without node_modules; the Redis-only install holds
//    no inversify, reflect-metadata or Kubernetes client.
// Nothing is cached between runs: the temp directory is new and removed at the end.
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractReadmeExamples, npmInstall, run, workspacePackages, writeProject } from './consumer/project.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'scripts', 'consumer');
/** The project's Node, and the lowest ones `engines` allow (tools/node20: 20.19.0; tools/node22: 22.19.0, for the Kubernetes packages). */
const NODES = {
  24: join(root, 'node_modules', 'node', 'bin', 'node'),
  22: join(root, 'tools', 'node22', 'node_modules', 'node', 'bin', 'node'),
  20: join(root, 'tools', 'node20', 'node_modules', 'node', 'bin', 'node'),
};
const PEERS = { ioredis6: '6.0.0', ioredis5: '5.9.0', pg: '8.23.1', typesPg: '8.23.1', kube: '2.0.1', prom: '15.1.3', etcd3: '1.1.2' };
/** Library packages whose import must work outside jest (@baton/contract imports @jest/globals, which only loads inside jest). */
const NOT_OUTSIDE_JEST = new Set(['@baton/contract']);

const started = performance.now();
const work = await mkdtemp(join(tmpdir(), 'baton-consumer-'));
const results = [];
async function step(name, fn) {
  const t0 = performance.now();
  try {
    const detail = await fn();
    results.push(`ok   ${name} (${Math.round(performance.now() - t0)} ms)${detail ? ` — ${detail}` : ''}`);
    process.stderr.write(`${results.at(-1)}\n`);
  } catch (error) {
    process.stderr.write(`FAIL ${name}\n${error instanceof Error ? error.message : String(error)}\n`);
    throw error;
  }
}
/** Runs `node` of a version in `cwd` with PATH led by that Node (so `npx` and bin shebangs use it). */
function withNode(version, args, options = {}) {
  return withPath(version, NODES[version], args, options);
}
/** Runs `command` with PATH led by that Node's directory. */
function withPath(version, command, args, options = {}) {
  return run(command, args, { ...options, env: { ...options.env, PATH: `${dirname(NODES[version])}:${process.env.PATH}` } });
}

let exitCode = 0;
try {
  const packages = await workspacePackages(root);
  const tarballs = join(work, 'tarballs');
  const tarballOf = {};

  await step('pack every package (prepack builds from a clean dist/)', async () => {
    for (const { dir } of packages) await rm(join(dir, 'dist'), { recursive: true, force: true });
    // One tsc for the whole graph is quicker than each prepack building in turn; prepack still runs (and finds it built).
    await run(NODES[24], [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...packages.map((p) => join(p.dir, 'tsconfig.json'))], { cwd: root, timeoutMs: 240_000 });
    await run(join(root, 'scripts', 'pnpm'), ['-r', ...packages.flatMap((p) => ['--filter', p.name]), 'pack', '--pack-destination', tarballs], { cwd: root, timeoutMs: 240_000 });
    const files = await readdir(tarballs);
    for (const { name, manifest } of packages) {
      const file = `${name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`;
      if (!files.includes(file)) throw new Error(`no tarball ${file} among ${files.join(', ')}`);
      tarballOf[name] = join(tarballs, file);
    }
    for (const [name, file] of Object.entries(tarballOf)) {
      const listed = (await run('tar', ['tzf', file])).stdout.split('\n').filter(Boolean);
      const wrong = listed.filter((f) => /\.tsbuildinfo$|\.map$|^package\/(src|bin|test)\//.test(f));
      if (!listed.includes('package/LICENSE') || wrong.length > 0) throw new Error(`${name}: LICENSE ${listed.includes('package/LICENSE') ? 'present' : 'missing'}; should not ship ${wrong.join(', ')}`);
    }
    const sizes = await Promise.all(files.map(async (f) => `${f} ${((await stat(join(tarballs, f))).size / 1024).toFixed(1)} kB`));
    await writeFile(join(work, 'tarballs.txt'), sizes.join('\n'));
    return sizes.join(', ');
  });

  const full = join(work, 'full');
  const redisOnly = join(work, 'redis');
  await step('npm install the tarballs into fresh projects (full; Redis-only with ioredis 5)', async () => {
    const all = Object.fromEntries(Object.entries(tarballOf).map(([name, file]) => [name, `file:${file}`]));
    await writeProject(full, {
      ...all,
      ioredis: PEERS.ioredis6,
      pg: PEERS.pg,
      '@types/pg': PEERS.typesPg,
      '@kubernetes/client-node': PEERS.kube,
      'prom-client': PEERS.prom,
      etcd3: PEERS.etcd3,
      '@jest/globals': '30.5.2',
      '@types/node': '24.19.2',
      // @kubernetes/client-node's declarations import 'ws' (through isomorphic-ws): with
      // skipLibCheck off its users need these types (lock-lease's README says so).
      '@types/ws': '^8.18.1',
    });
    await writeProject(redisOnly, {
      '@baton/core': `file:${tarballOf['@baton/core']}`,
      '@baton/lock-redis': `file:${tarballOf['@baton/lock-redis']}`,
      ioredis: PEERS.ioredis5,
      '@types/node': '24.19.2',
    });
    await Promise.all([npmInstall(full), npmInstall(redisOnly)]);
  });

  const libraries = packages.filter((p) => p.manifest.exports && !NOT_OUTSIDE_JEST.has(p.name));
  const entryPoints = (list) => list.flatMap((p) => Object.keys(p.manifest.exports).map((sub) => (sub === '.' ? p.name : `${p.name}/${sub.slice(2)}`)));
  const specifiers = entryPoints(libraries);
  const lowest = (p) => Number(/^>=(\d+)\./.exec(p.manifest.engines.node)[1]);
  const importChecks = [24, 22, 20].map((version) => {
    const allowed = entryPoints(libraries.filter((p) => lowest(p) <= version));
    return step(`Node ${version}: ESM import and CJS require of ${allowed.length} entry points`, async () => {
      const esm = `for (const s of ${JSON.stringify(allowed)}) { const m = await import(s); if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing'); }`;
      await withNode(version, ['--input-type=module', '-e', esm], { cwd: full });
      const cjs = `for (const s of ${JSON.stringify(allowed)}) { const m = require(s); if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing'); }`;
      await withNode(version, ['--no-warnings', '--input-type=commonjs', '-e', cjs], { cwd: full });
    });
  });

  // The user apps, in both projects.
  for (const app of ['redis-app.ts', 'postgres-app.ts', 'lease-app.ts']) await cp(join(fixtures, app), join(full, app));
  await cp(join(fixtures, 'redis-app.ts'), join(redisOnly, 'redis-app.ts'));
  const imported = await Promise.allSettled(importChecks);
  for (const check of imported) if (check.status === 'rejected') throw check.reason;

  // Type checking (the slowest step) runs alongside the run-time checks; the machine waits on processes in those.
  const typeCheck = step('tsc (skipLibCheck: false) over every README example and the user apps', async () => {
    const examples = await extractReadmeExamples(root, full);
    // Every public declaration file, including those no example imports.
    await writeFile(join(full, 'all-types.ts'), specifiers.concat('@baton/contract').map((s, i) => `import type * as m${i} from '${s}';\nexport type T${i} = typeof m${i};`).join('\n'));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const checks = await Promise.allSettled([full, redisOnly].map((cwd) => run(NODES[24], [tsc, '-p', 'tsconfig.json'], { cwd })));
    for (const check of checks) {
      if (check.status === 'rejected') throw new Error(`${check.reason.message}\nexamples:\n${examples.map((e) => `  ${e.file} ← ${e.from}`).join('\n')}`);
    }
    return `${examples.length} README examples`;
  });

  const runChecks = (async () => {
    await step("the user's own ioredis 6 and ioredis 5 clients take a lock (Node 24)", async () => {
      const six = await withNode(24, ['redis-app.ts'], { cwd: full });
      const five = await withNode(24, ['redis-app.ts'], { cwd: redisOnly });
      for (const { stdout } of [six, five]) if (!stdout.includes('redis-app: released')) throw new Error(stdout);
      const versions = await run(NODES[24], ['-p', "require('ioredis/package.json').version"], { cwd: redisOnly });
      return `ioredis ${PEERS.ioredis6} and ${versions.stdout.trim()}`;
    });

    await step('a Redis-only install holds no inversify, reflect-metadata or Kubernetes client', async () => {
      const found = [];
      const scan = async (dir) => {
        for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
          if (!entry.isDirectory()) continue;
          const name = entry.name;
          if (/^(inversify|reflect-metadata|@inversifyjs|@kubernetes|prom-client|pg|zod)$/.test(name)) found.push(join(dir, name));
          if (name.startsWith('@') || name === 'node_modules') await scan(join(dir, name));
          else await scan(join(dir, name, 'node_modules'));
        }
      };
      await scan(join(redisOnly, 'node_modules'));
      if (found.length) throw new Error(`found: ${found.join(', ')}`);
    });

    for (const version of [24, 22]) {
      await step(`Node ${version}: npx baton --help, and fake-kube-apiserver --help`, async () => {
        const { stdout } = await withPath(version, 'npx', ['--no-install', 'baton', '--help'], { cwd: full });
        if (!stdout.includes('baton run')) throw new Error(stdout);
        const fake = await withPath(version, 'npx', ['--no-install', 'fake-kube-apiserver', '--help'], { cwd: full });
        if (!fake.stdout.includes('--kubeconfig')) throw new Error(fake.stdout);
      });
    }

    await step('Node 22: baton demo --fast from the installed @baton/cli (candidates spawn the compiled bin)', async () => {
      const { stdout } = await withPath(22, 'npx', ['--no-install', 'baton', 'demo', '--fast'], { cwd: full, timeoutMs: 90_000 });
      const last = stdout.trim().split('\n').slice(-3).join(' / ');
      return last.slice(0, 200);
    });

    await step('esbuild bundles of a Redis, a PostgreSQL and a Lease app run from a directory without node_modules (Redis, PostgreSQL: Node 20 and 24; Lease: 22 and 24)', async () => {
      const esbuild = join(root, 'node_modules', '.bin', 'esbuild');
      const out = join(work, 'bundles');
      await mkdir(out, { recursive: true });
      for (const app of ['redis-app', 'postgres-app', 'lease-app']) {
        await run(esbuild, [join(full, `${app}.ts`), '--bundle', '--platform=node', '--format=esm', '--log-level=warning', `--outfile=${join(out, `${app}.mjs`)}`,
          // CommonJS dependencies (ioredis, pg) call require() on Node built-ins; an ESM bundle needs one.
          "--banner:js=import { createRequire as __batonRequire } from 'node:module'; const require = __batonRequire(import.meta.url);"], { cwd: full });
      }
      const server = await startFakeApiServer(full, work);
      try {
        for (const [app, versions] of [['redis-app', [20, 24]], ['postgres-app', [20, 24]], ['lease-app', [22, 24]]]) {
          for (const version of versions) {
            const { stdout } = await withNode(version, [join(out, `${app}.mjs`)], { cwd: out, env: { KUBECONFIG: server.kubeconfig } });
            if (!stdout.includes(`${app}: released`)) throw new Error(`${app} on Node ${version}: ${stdout}`);
          }
        }
      } finally {
        server.stop();
      }
    });
  })();
  const settled = await Promise.allSettled([typeCheck, runChecks]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
} catch {
  exitCode = 1;
} finally {
  // --keep: leave the directory for a look (it is never reused: every run starts from a new one).
  if (process.argv.includes('--keep')) process.stderr.write(`kept ${work}\n`);
  else await rm(work, { recursive: true, force: true });
}
process.stderr.write(`consumer test: ${exitCode === 0 ? 'passed' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(exitCode);

/** The installed fake-kube-apiserver bin on a free port; resolves once it printed its kubeconfig. */
async function startFakeApiServer(cwd, dir) {
  const { spawn } = await import('node:child_process');
  const child = spawn(NODES[24], [join(cwd, 'node_modules', '@baton', 'fake-kube-apiserver', 'dist', 'bin', 'fake-kube-apiserver.js'), '--port', '0', '--kubeconfig', join(dir, 'kubeconfig')], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake-kube-apiserver did not start within 10 s')), 10_000);
    child.stdout.once('data', (chunk) => {
      clearTimeout(timer);
      resolve(String(chunk));
    });
    child.once('exit', (code) => reject(new Error(`fake-kube-apiserver exited ${code}`)));
  });
  const { kubeconfig } = JSON.parse(line);
  return { kubeconfig, stop: () => child.kill('SIGTERM') };
}
