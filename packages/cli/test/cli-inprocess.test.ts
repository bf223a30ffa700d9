/**
 * `main()` in this process, so the commands' code is measured by coverage: `run` and
 * `status --watch` on the memory backend, the demo on PostgreSQL.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLockStore } from '@baton/core';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import { describe, expect, it } from '@jest/globals';
import { main, type CliIo } from '../src/cli.ts';
import { createContainer } from '@baton/runtime';
import { uniqueName, waitFor } from './support/process.ts';

function io(env: Record<string, string> = {}) {
  const controller = new AbortController();
  const out = { stdout: '', stderr: '' };
  const value: CliIo = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: { BATON_LOG_LEVEL: 'silent', ...env },
    signal: controller.signal,
  };
  return { io: value, out, stop: () => controller.abort() };
}

const FAST = ['--lease-duration', '1s', '--renew-deadline', '700ms', '--retry-period', '150ms', '--port', '0', '--http-host', '127.0.0.1'];

describe('main() in process', () => {
  it('run: exits with the code of a command that ends on its own', async () => {
    const { io: cli } = io();
    expect(await main(['run', '--backend', 'memory', '--id', uniqueName('r'), ...FAST, '--', process.execPath, '-e', 'process.exit(4)'], cli)).toBe(4);
  });

  it('run: on SIGTERM stops the command and exits with its code', async () => {
    const store = new MemoryLockStore();
    const id = uniqueName('r');
    const dir = await mkdtemp(join(tmpdir(), 'baton-run-'));
    const ready = join(dir, 'ready');
    const { io: cli, stop } = io();
    const script = `process.on("SIGTERM", () => process.exit(6)); require("fs").writeFileSync(${JSON.stringify(ready)}, ""); setInterval(() => {}, 1e9)`;
    const running = main(
      ['run', '--backend', 'memory', '--id', id, '--identity', 'me', ...FAST, '--', process.execPath, '-e', script],
      cli,
      createContainer({ memoryStore: store }),
    );
    const lock = store.lock(id, 'observer');
    await waitFor(() => existsSync(ready), 5_000, 'the command to be ready');
    expect((await lock.get())?.record.holderIdentity).toBe('me');
    stop();
    expect(await running).toBe(6);
    expect((await lock.get())?.record.holderIdentity).toBe('');
    await rm(dir, { recursive: true, force: true });
  });

  it('status --watch: a row per change until interrupted', async () => {
    const store = new MemoryLockStore();
    const id = uniqueName('s');
    const writer = store.lock(id, 'writer');
    const { io: cli, out, stop } = io();
    const watching = main(['status', '--backend', 'memory', '--id', id, '--watch', '--retry-period', '100ms', '--renew-deadline', '700ms', '--lease-duration', '1s'], cli, createContainer({ memoryStore: store }));
    await waitFor(() => out.stdout.includes('<none>'), 5_000, 'the first row');
    const now = Date.now();
    const created = await writer.create({ holderIdentity: 'writer', leaseDurationMs: 1000, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 1 });
    await waitFor(() => / writer /.test(out.stdout), 5_000, 'the holder row');
    await writer.update({ ...created.record, holderIdentity: '' }, created.version);
    await waitFor(() => out.stdout.includes('<released>'), 5_000, 'the released row');
    stop();
    expect(await watching).toBe(0);
    expect(out.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('status -o json --watch prints one object per change', async () => {
    const store = new MemoryLockStore();
    const id = uniqueName('j');
    const { io: cli, out, stop } = io();
    const watching = main(['status', '--backend', 'memory', '--id', id, '-w', '-o', 'json'], cli, createContainer({ memoryStore: store }));
    await waitFor(() => out.stdout.includes('"found":false'), 5_000, 'the first object');
    const now = Date.now();
    await store.lock(id, 'w').create({ holderIdentity: 'w', leaseDurationMs: 1000, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 1 });
    await waitFor(() => out.stdout.includes('"holderIdentity":"w"'), 5_000, 'the holder');
    stop();
    expect(await watching).toBe(0);
    expect(out.stdout.trim().split('\n').map((l) => JSON.parse(l).found)).toEqual([false, true]);
  });

  it('demo --fast on PostgreSQL: a crash fails over at once (the session is gone), and passes', async () => {
    const { io: cli, out } = io();
    const code = await main(['demo', '--fast', '--backend', 'postgres', '--url', 'postgres://postgres@127.0.0.1:5432/test'], cli);
    expect({ code, stderr: out.stderr, ...(code !== 0 && { stdout: out.stdout }) }).toEqual({ code: 0, stderr: '' });
    const crash = Number(/crash failover \(SIGKILL [^)]*\):\s+(\d+) ms/.exec(out.stdout)?.[1]);
    // PostgreSQL frees a dead session's advisory lock at once: no waiting for the 1 s lease.
    expect(crash).toBeLessThan(900);
    expect(out.stdout.trimEnd().split('\n').at(-1)).toBe('demo passed');
  });

  it('demo --fast --backend endpoints --url: the same demo on a given API server', async () => {
    const server = await startFakeApiServer({ port: 0 });
    try {
      const { io: cli, out } = io();
      const code = await main(['demo', '--fast', '--backend', 'endpoints', '--url', server.url, `--token=${server.adminToken}`], cli);
      expect({ code, stderr: out.stderr, ...(code !== 0 && { stdout: out.stdout }) }).toEqual({ code: 0, stderr: '' });
      expect(out.stdout).toContain(`three candidates on the endpoints backend (Kubernetes API server ${server.url})`);
      expect(server.listObjects('endpoints', 'default').map((o) => (o.metadata as { name: string }).name)).toEqual([
        expect.stringMatching(/^baton-demo-/),
      ]);
    } finally {
      await server.stop();
    }
  });
});
