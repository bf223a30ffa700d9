/**
 * Usage and configuration errors: clear messages and exit code 2, from the real binary and
 * from `main()` in process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { main, type CliIo } from '../src/cli.ts';
import { BatonProcess } from './support/process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-usage-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const running: BatonProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

async function runBin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const process = new BatonProcess(args, env);
  running.push(process);
  const { code } = await process.exit(10_000);
  return { code, stdout: process.stdout.join('\n'), stderr: process.stderr.join('\n') };
}

async function runMain(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, signal: new AbortController().signal };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('the baton binary', () => {
  it('exits 2 naming the file, line, field and valid values for a bad configuration file', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'backend: mysql\nleaderElectionID: x\nretryPeriod: soon\n');
    const result = await runBin(['run', '--config', file, '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'baton: invalid configuration:',
        `  ${file}:1:10: backend: unknown backend "mysql"; valid backends: lease, endpoints, configmap, redis, postgres, etcd, memory`,
        `  ${file}:3:14: retryPeriod: "soon" is not a duration (examples: "15s", "500ms", "1m30s", or milliseconds as a number)`,
      ].join('\n'),
    );
  });

  it('exits 2 with one line naming the field, what it takes and what it got, for a value of the wrong type', async () => {
    const file = join(dir, 'types.yaml');
    await writeFile(file, 'backend: lease\nleaderElectionID: x\nleaseDuration: true\nkubernetes:\n  leaderPodLabel: 7\n');
    const result = await runBin(['run', '--config', file, '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'baton: invalid configuration:',
        `  ${file}:3:16: leaseDuration: expected a duration such as "15s" or a number of milliseconds, got boolean true`,
        `  ${file}:5:19: kubernetes.leaderPodLabel: expected true, false or a label key such as "example.com/leader", got number 7`,
      ].join('\n'),
    );
  });

  it('exits 2 for an unknown flag, and for a bad value in a flag or variable', async () => {
    const flag = await runBin(['run', '--leese-duration', '1s', '--', 'true']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("baton: unknown option '--leese-duration'\nRun \"baton run --help\" for usage.");
    const value = await runBin(['status', '--backend', 'memory', '--id', 'x', '--port', 'http'], { BATON_LEASE_DURATION: 'long' });
    expect(value.code).toBe(2);
    expect(value.stderr).toBe(
      [
        'baton: invalid configuration:',
        '  flag --port: http.port: expected a whole number, got "http"',
      ].join('\n'),
    );
  });

  it('exits 1, promptly, when the backend is unreachable', async () => {
    const result = await runBin(['status', '--backend', 'redis', '--url', 'redis://127.0.0.1:1', '--id', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^baton: redis baton:\{x\}: get: Redis is unreachable/);
  });

  it('prints help and the version with exit code 0', async () => {
    const help = await runBin(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: baton run [options] -- <command> [args…]');
    expect(help.stdout).toContain('127 the command was not found');
    const version = await runBin(['--version']);
    expect([version.code, version.stdout]).toEqual([0, 'baton 0.1.0']);
  });
});

describe('main()', () => {
  it('explains what is wrong with the command line', async () => {
    expect(await runMain(['frobnicate'])).toMatchObject({ code: 2, stderr: 'baton: unknown command "frobnicate"; commands: run, status, demo, help, version\nRun "baton --help" for usage.\n' });
    expect(await runMain(['run', '--backend', 'memory'])).toMatchObject({ code: 2, stderr: expect.stringContaining('baton run needs a command: baton run [options] -- <command> [args…]') });
    expect(await runMain(['run', 'sleep', '1'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unexpected argument "sleep": put the command after "--", as in: baton run [options] -- sleep 1'),
    });
    expect(await runMain(['status', 'extra'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unexpected argument "extra"') });
    expect(await runMain(['status', '-o', 'yaml', '--backend', 'memory', '--id', 'x'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--output must be "table" or "json", got "yaml"'),
    });
    expect(await runMain(['run', '--id', 'x', '--', 'true'], { BATON_BACKEND: 'nope' })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('environment variable BATON_BACKEND: backend: unknown backend "nope"'),
    });
    expect(await runMain(['demo', '--backend', 'memory'])).toMatchObject({ code: 2, stderr: expect.stringContaining('is in-process only') });
    expect(await runMain(['demo', '--lease-duration', '1s', '--renew-deadline', '5s'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('flag --lease-duration: leaseDuration: must be greater than renewDeadline'),
    });
  });

  it('reports Kubernetes connection options by field and flag', async () => {
    const missing = join(dir, 'no-kubeconfig');
    expect(await runMain(['status', '--backend', 'lease', '--kubeconfig', missing, '--id', 'x'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`flag --kubeconfig: kubernetes.kubeconfig: cannot load ${missing}`),
    });
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: dev, context: {cluster: c, user: u}}]\ncurrent-context: dev\n',
    );
    expect(await runMain(['status', '--backend', 'endpoints', '--kubeconfig', kubeconfig, '--context', 'prod', '--id', 'x'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('flag --context: kubernetes.context: no context "prod" in the kubeconfig; it has: dev'),
    });
    expect(await runMain(['status', '--backend', 'lease', '--url', 'http://127.0.0.1:1', '--kubeconfig', kubeconfig, '--id', 'x'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('flag --url: kubernetes.url: give either url or kubeconfig, not both'),
    });
    expect(await runMain(['status', '--backend', 'lease', '--kubeconfig', kubeconfig, '--id', 'Not_A_Name'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('flag --id: leaderElectionID: "Not_A_Name" is not a valid Kubernetes object name'),
    });
  });

  it('prints the help of every command', async () => {
    for (const args of [[], ['help'], ['help', 'status'], ['status', '--help'], ['demo', '-h']]) {
      const { code, stdout } = await runMain(args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/Usage/);
    }
    expect((await runMain(['help'])).stdout).toContain('Backends: lease, endpoints, configmap, redis, postgres, etcd, memory');
    expect((await runMain(['version'])).stdout).toBe('baton 0.1.0\n');
  });

  it('exits 3 from status when the lock does not exist', async () => {
    const { code, stdout } = await runMain(['status', '--backend', 'memory', '--id', 'missing']);
    expect(code).toBe(3);
    expect(stdout.split('\n')[1]).toMatch(/^missing\s+<none>\s+-\s+-\s+-\s+-\s+-$/);
  });

  it('exits 1 for a failure that is not the configuration', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const { code, stderr } = await runMain(['run', '--backend', 'memory', '--id', 'x', '--http-host', '127.0.0.1', '--port', String(port), '--', 'true']);
      expect(code).toBe(1);
      expect(stderr).toBe(`baton: cannot serve HTTP on 127.0.0.1:${port}: the port is in use\n`);
    } finally {
      server.close();
    }
  });
});
