#!/usr/bin/env node
// `prepack` of every published package: builds the package (and, through project references,
// the packages it depends on) from a clean dist/, and puts the repository's LICENSE next to
// its package.json so the tarball carries it.
//
// `pnpm -r pack` runs several prepacks at once and they share referenced projects (core), so
// builds take turns through a lock directory; a package already built in this pack run (same
// PACK_RUN id) is not built again.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = process.cwd();
const lock = join(root, 'node_modules', '.prepack-lock');

function acquire() {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock left by a build killed more than 5 minutes ago is stale.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`prepack: ${lock} held for 5 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

acquire();
try {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', join(pkg, 'tsconfig.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  copyFileSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'));
} finally {
  rmSync(lock, { recursive: true, force: true });
}
