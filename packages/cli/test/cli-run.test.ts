/**
 * `baton run` end to end: real baton processes, real commands, real HTTP, real backends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { openLock } from '@baton/runtime';
import { configFromFlags, deleteRedisKeys, kubernetesBackend, redisBackend, runKeyPrefix, type E2eBackend } from './support/backends.ts';
import { BatonProcess, FAST, processAlive, uniqueName, waitFor } from './support/process.ts';

/** The command under test: says when it starts, exits 7 on SIGTERM. */
const CHILD = [
  process.execPath,
  '-e',
  `const id = process.env.BATON_IDENTITY;
   process.on('SIGTERM', () => { console.log('child ' + id + ' SIGTERM'); process.exit(7); });
   console.log('child ' + id + ' started token=' + process.env.BATON_FENCING_TOKEN + ' pid=' + process.pid);
   setInterval(() => {}, 1 << 30);`,
];

const BACKENDS: E2eBackend[] = [kubernetesBackend('lease'), redisBackend];

const running: BatonProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

function baton(args: readonly string[]): BatonProcess {
  const process = new BatonProcess(args);
  running.push(process);
  return process;
}

describe.each(BACKENDS)('baton run on $name', (backend) => {
  let flags: string[];
  beforeAll(async () => {
    flags = await backend.setUp();
  });
  afterAll(async () => {
    await backend.tearDown();
  });

  const candidate = (lock: string, identity: string, command = CHILD): BatonProcess =>
    baton(['run', ...flags, '--id', lock, '--identity', identity, '--port', '0', '--http-host', '127.0.0.1', ...FAST, '--', ...command]);

  it('runs the command only on the leader and answers /leader, /healthz and /metrics', async () => {
    const lock = uniqueName('run');
    const a = candidate(lock, 'a');
    await a.waitForStdout(/^child a started token=\d+/, 10_000);
    const b = candidate(lock, 'b');
    const [urlA, urlB] = await Promise.all([a.httpUrl(), b.httpUrl()]);
    await b.waitForLog((l) => l.msg === 'new leader observed' && l.leader === 'a', 10_000, 'b to see a');

    for (const url of [urlA, urlB]) {
      const leader = (await (await fetch(`${url}/leader`)).json()) as Record<string, unknown>;
      expect(leader.name).toBe('a');
      const health = await fetch(`${url}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    }
    expect(((await (await fetch(`${urlB}/leader`)).json()) as { isLeader: boolean }).isLeader).toBe(false);
    expect(await (await fetch(`${urlA}/metrics`)).text()).toContain(`leader_election_master_status{name="${lock}"} 1`);
    expect(await (await fetch(`${urlB}/metrics`)).text()).toContain(`leader_election_master_status{name="${lock}"} 0`);
    expect(b.stdout.filter((line) => line.startsWith('child'))).toEqual([]);
  });

  it('stops the command when leadership is lost, and starts it again when re-elected', async () => {
    const lock = uniqueName('loss');
    const a = candidate(lock, 'a');
    await a.waitForStdout(/^child a started/, 10_000);

    // Someone else takes the lock: a compare-and-swap on the record, retried when the leader's renewal wins the race.
    const intruder = await openLock(await configFromFlags(flags, lock), { identity: 'intruder' });
    try {
      for (let attempt = 1; ; attempt++) {
        const snapshot = (await intruder.lock.get())!;
        const now = Date.now();
        const record = { ...snapshot.record, holderIdentity: 'intruder', acquireTime: now, renewTime: now };
        try {
          await intruder.lock.update({ ...record, leaderTransitions: record.leaderTransitions + 1, fencingToken: record.fencingToken + 1 }, snapshot.version);
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== 'LOCK_CONFLICT' || attempt === 20) throw error;
        }
      }
    } finally {
      await intruder.close();
    }
    await a.waitForLog((l) => l.msg === 'leadership lost: stopping the command', 5_000, 'a to notice the loss');
    await a.waitForStdout(/^child a SIGTERM$/, 5_000);
    const exited = await a.waitForLog((l) => l.msg === 'command exited', 5_000, 'the command to exit');
    expect(exited).toMatchObject({ exitCode: 7, stopped: true });
    // The intruder never renews: once its lease expires, a takes the lock and runs the command again.
    const again = await a.waitForStdout(/^child a started token=\d+/, 10_000, a.stdout.indexOf('child a SIGTERM'));
    expect(Number(/token=(\d+)/.exec(again)![1])).toBeGreaterThanOrEqual(3);
  });

  it('on SIGTERM stops the command, releases the lease and exits with the command’s code', async () => {
    const lock = uniqueName('term');
    const a = candidate(lock, 'a');
    await a.waitForStdout(/^child a started/, 10_000);
    const b = candidate(lock, 'b');
    await b.waitForLog((l) => l.msg === 'new leader observed' && l.leader === 'a', 10_000, 'b to see a');

    const stoppedAt = Date.now();
    a.signal('SIGTERM');
    expect(await a.exit(5_000)).toEqual({ code: 7, signal: null });
    expect(a.stdout).toContain('child a SIGTERM');
    const released = a.logs.findIndex((l) => l.msg === 'released the lease');
    const exitedIndex = a.logs.findIndex((l) => l.msg === 'command exited');
    expect(exitedIndex).toBeGreaterThanOrEqual(0);
    expect(released).toBeGreaterThan(exitedIndex);
    // Released, not expired: b starts well within one lease duration.
    await b.waitForStdout(/^child b started/, 5_000);
    const started = b.logs.find((l) => l.msg === 'started leading')!;
    expect(Date.parse(started.time as string) - stoppedAt).toBeLessThan(1_000);
  });

  it('stops the command when baton itself is killed with SIGKILL', async () => {
    const lock = uniqueName('kill9');
    const a = candidate(lock, 'a');
    const line = await a.waitForStdout(/^child a started/, 10_000);
    const pid = Number(/pid=(\d+)/.exec(line)![1]);
    a.signal('SIGKILL');
    await a.exit(5_000);
    await waitFor(() => !processAlive(pid), 5_000, `the orphaned command (pid ${pid}) to be stopped by the watchdog`);
  });
});

describe('baton run, whatever the backend', () => {
  const runPrefix = runKeyPrefix('run');
  afterAll(() => deleteRedisKeys(runPrefix));
  const args = (lock: string): string[] => ['run', '--backend', 'redis', '--redis-key-prefix', runPrefix, '--id', lock, '--port', '0', ...FAST];

  it('exits with the command’s code when it ends on its own, and releases the lease', async () => {
    const lock = uniqueName('own-exit');
    const a = baton([...args(lock), '--', process.execPath, '-e', 'process.exit(5)']);
    expect(await a.exit(10_000)).toEqual({ code: 5, signal: null });
    expect(a.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['the command exited on its own: releasing the lease and exiting', 'released the lease']));
  });

  it('exits 127 when the command does not exist', async () => {
    const a = baton([...args(uniqueName('enoent')), '--', 'baton-no-such-command-xyz']);
    expect((await a.exit(10_000)).code).toBe(127);
    expect(a.logs.find((l) => l.msg === 'command could not start')?.error).toBe('baton-no-such-command-xyz: command not found');
  });

  it('exits 0 when stopped before it ever led', async () => {
    const lock = uniqueName('never');
    const leader = baton([...args(lock), '--identity', 'leader', '--', ...CHILD]);
    await leader.waitForStdout(/^child leader started/, 10_000);
    const follower = baton([...args(lock), '--identity', 'follower', '--', ...CHILD]);
    await follower.waitForLog((l) => l.msg === 'new leader observed', 10_000, 'follower to see the leader');
    follower.signal('SIGTERM');
    expect(await follower.exit(5_000)).toEqual({ code: 0, signal: null });
  });
});

describe('baton run started with an IPC channel (as the demo starts its candidates)', () => {
  it('stops gracefully when the parent goes away, and its command with it', async () => {
    const a = new BatonProcess(['run', '--backend', 'memory', '--id', uniqueName('ipc'), '--no-http', ...FAST, '--', process.execPath, '-e', 'console.log("child pid=" + process.pid); setInterval(() => {}, 1 << 30)'], {}, true);
    running.push(a);
    const line = await a.waitForStdout(/^child pid=\d+/, 10_000);
    const pid = Number(/pid=(\d+)/.exec(line)![1]);
    a.child.disconnect(); // what a SIGKILLed parent's closed channel looks like to baton
    expect(await a.exit(10_000)).toMatchObject({ signal: null });
    expect(a.logs.some((l) => l.msg === 'stopping the command (SIGTERM)')).toBe(true);
    await waitFor(() => !processAlive(pid), 5_000, `the command (pid ${pid}) to be stopped`);
  });
});

describe('baton run gives up on permanent errors', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  beforeAll(async () => {
    // A Redis of the test's own that wants a password.
    port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'right-password'], { stdio: 'ignore' });
    await waitFor(() => new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); }).on('error', () => resolve(false));
    }), 5_000, 'the password-protected Redis to listen');
  });
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('exits 4 with one clear line when Redis keeps rejecting the credentials for giveUpAfter; /readyz fails meanwhile', async () => {
    const started = Date.now();
    const a = baton([
      'run', '--backend', 'redis', '--url', `redis://:wrong-password@127.0.0.1:${port}`, '--id', uniqueName('auth'),
      '--port', '0', '--http-host', '127.0.0.1', ...FAST, '--give-up-after', '2s', '--', 'true',
    ]);
    const url = await a.httpUrl();
    await a.waitForLog((l) => l.msg === 'acquire attempt failed', 10_000, 'a failed attempt');
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/^not ready: failing with a permanent error: .*Redis rejected the credentials/);
    expect(await a.exit(15_000)).toEqual({ code: 4, signal: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const last = a.stderr.filter((line) => line.startsWith('baton: '));
    expect(last).toEqual([expect.stringMatching(/^baton: gave up after \d+ ms of permanent errors: .*Redis rejected the credentials/)]);
  });
});
