// Helpers of the consumer test: run a command with a deadline, pack the workspace, write a
// fresh npm project that depends on the tarballs, extract the READMEs' TypeScript examples.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Runs `command`; resolves with its output, rejects with it (and the exit code) on failure. */
export function run(command, args, { cwd, env, timeoutMs = 120_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A command that exits without reading its input must not crash this script (EPIPE).
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const what = `${command} ${args.join(' ')}`.slice(0, 300);
        reject(new Error(`${what}\n  exited ${code ?? signal} in ${cwd ?? process.cwd()}\n--- stdout:\n${stdout.slice(-4000)}\n--- stderr:\n${stderr.slice(-4000)}`));
      }
    });
  });
}

/** The publishable workspace packages: `{ name, dir }` for every packages/* that is not private. */
export async function workspacePackages(root) {
  const found = [];
  for (const entry of await readdir(join(root, 'packages'))) {
    const manifest = JSON.parse(await readFile(join(root, 'packages', entry, 'package.json'), 'utf8').catch(() => 'null'));
    if (manifest && !manifest.private) found.push({ name: manifest.name, dir: join(root, 'packages', entry), manifest });
  }
  return found;
}

/** A fresh npm project at `dir` depending on `dependencies` (names → versions or file: paths). */
export async function writeProject(dir, dependencies) {
  await mkdir(dir, { recursive: true });
  const manifest = { name: `consumer-${Date.now()}`, private: true, type: 'module', dependencies };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The user's view: skipLibCheck off, so every declaration file the packages ship is checked.
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      allowImportingTsExtensions: true,
      types: ['node'],
    },
    include: ['*.ts', 'examples/*.ts'],
  };
  await writeFile(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
}

/** `npm install` in `dir`: registry packages may come from npm's cache; the tarballs are new every run. */
export function npmInstall(dir) {
  return run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, timeoutMs: 240_000 });
}

/**
 * Every ```ts block of the root README and the packages' READMEs, verbatim, as
 * `examples/<package>-<n>.ts` in `dir`. Returns the files written, with where each came from.
 */
export async function extractReadmeExamples(root, dir) {
  const readmes = ['README.md', ...(await readdir(join(root, 'packages'))).map((p) => join('packages', p, 'README.md'))];
  const written = [];
  await mkdir(join(dir, 'examples'), { recursive: true });
  for (const readme of readmes) {
    const text = await readFile(join(root, readme), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const label = readme === 'README.md' ? 'root' : readme.split('/')[1];
    const lines = text.split('\n');
    let block;
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      // "```ts api" marks a signature listing (an API reference), not an example: not compiled.
      if (block === undefined && /^```(ts|typescript)\s*$/.test(line)) block = { start: i + 2, lines: [] };
      else if (block !== undefined && /^```\s*$/.test(line)) {
        const file = join(dir, 'examples', `${label}-${++n}.ts`);
        // `export {}` only makes a block without imports a module (top-level await); nothing else is added.
        await writeFile(file, `${block.lines.join('\n')}\nexport {};\n`);
        written.push({ file: relative(dir, file), from: `${readme}:${block.start}` });
        block = undefined;
      } else if (block !== undefined) block.lines.push(line);
    }
  }
  return written;
}
