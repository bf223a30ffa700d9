// The standalone bin: serves on a port, writes a kubeconfig, answers kubectl, stops on SIGTERM.

import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/fake-kube-apiserver.ts', import.meta.url));

let dir: string;
let child: ChildProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-bin-'));
});
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('serves, writes a kubeconfig kubectl can use, and exits 0 on SIGTERM', async () => {
  const kubeconfig = join(dir, 'kubeconfig');
  const tokens = join(dir, 'tokens.json');
  writeFileSync(tokens, JSON.stringify({ viewer: { user: 'viewer', rules: [{ verbs: ['get', 'list'], resources: ['namespaces'] }] } }));
  const proc = spawn(process.execPath, [BIN, '--port', '0', '--kubeconfig', kubeconfig, '--token', 'root', '--tokens', tokens], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bin printed nothing')), 15_000);
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
  const ready = JSON.parse(firstLine) as { url: string; kubeconfig: string; adminToken: string };
  expect(ready.kubeconfig).toBe(kubeconfig);
  expect(ready.adminToken).toBe('root');
  expect(readFileSync(kubeconfig, 'utf8')).toContain('certificate-authority-data:');

  const version = await fetch(`${ready.url}/version`, { headers: { Authorization: 'Bearer viewer' } });
  expect(((await version.json()) as { gitVersion: string }).gitVersion).toBe('v1.33.0');

  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      process.env.KUBECTL ?? 'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'get', 'namespaces', '-o', 'name'],
      { timeout: 20_000, env: { ...process.env, HOME: dir, KUBECONFIG: '' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  expect(out.trim().split('\n')).toEqual(['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);

  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
});
