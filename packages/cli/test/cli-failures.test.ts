/**
 * The failure table of the CLI README, one row per test: how `baton run` reports each way a
 * configuration can be wrong. A permanent error ends baton after `giveUpAfter` (here 1 s) with
 * exit code 4 and one line saying what is wrong; a transient one keeps it retrying.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeApiServer, type FakeApiServer } from '@baton/fake-kube-apiserver';
import { freePort } from '@baton/testkit';
import { BatonProcess, FAST, uniqueName, waitFor } from './support/process.ts';

let redis: ChildProcess | undefined;
let redisPort = 0;
let kube: FakeApiServer;
const running: BatonProcess[] = [];

beforeAll(async () => {
  redisPort = await freePort();
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'right'], { stdio: 'ignore' });
  await waitFor(
    () => new Promise<boolean>((resolve) => {
      const socket = connect(redisPort, '127.0.0.1', () => (socket.destroy(), resolve(true))).on('error', () => resolve(false));
    }),
    5_000,
    'the password-protected Redis',
  );
  // A token that may do nothing at all, beside the admin one.
  kube = await startFakeApiServer({ port: 0, tokens: { 'nobody-token': { user: 'nobody', rules: [] } } });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  redis?.kill('SIGKILL');
  await kube.stop();
});

/** `baton run` with `flags`, giving up on permanent errors after 1 s. */
function run(flags: readonly string[]): BatonProcess {
  const p = new BatonProcess(['run', '--id', uniqueName('fail'), '--no-http', ...FAST, '--give-up-after', '1s', ...flags, '--', 'true']);
  running.push(p);
  return p;
}

/** The one line baton prints on stderr as it exits (its JSON log lines aside). */
const lastLine = (p: BatonProcess): string[] => p.stderr.filter((line) => line.startsWith('baton: '));

describe('baton run: permanent failures end it with exit code 4 and one line', () => {
  const rows: Array<[string, () => string[], RegExp]> = [
    ['Redis rejects the password', () => ['--backend', 'redis', '--url', `redis://:wrong@127.0.0.1:${redisPort}`], /Redis rejected the credentials: WRONGPASS/],
    ['Redis has no such database', () => ['--backend', 'redis', '--url', `redis://:right@127.0.0.1:${redisPort}/99`], /Redis has no database 99/],
    ['PostgreSQL has no such database', () => ['--backend', 'postgres', '--url', 'postgres://postgres@127.0.0.1:5432/baton_no_such_db'], /database "baton_no_such_db" does not exist/],
    ['PostgreSQL rejects the user', () => ['--backend', 'postgres', '--url', 'postgres://baton_no_such_role@127.0.0.1:5432/test'], /PostgreSQL rejected the credentials/],
    ['the API server rejects the token (401)', () => ['--backend', 'lease', '--url', kube.url, '--token', 'not-a-token'], /the API server rejected the token \(401\)/],
    ['RBAC forbids the call (403)', () => ['--backend', 'lease', '--url', kube.url, '--token', 'nobody-token'], /not allowed to \w+ leases\.coordination\.k8s\.io .*\(403\)/],
    ['the namespace does not exist', () => ['--backend', 'lease', '--url', kube.url, `--token=${kube.adminToken}`, '--namespace', 'no-such-namespace'], /namespace "no-such-namespace" does not exist|namespaces "no-such-namespace" not found/],
  ];
  it.each(rows)('%s', async (_, flags, line) => {
    const p = run(flags());
    expect(await p.exit(20_000)).toEqual({ code: 4, signal: null });
    expect(lastLine(p)).toEqual([expect.stringMatching(/^baton: gave up after \d+ ms of permanent errors: /)]);
    expect(lastLine(p)[0]).toMatch(line);
  });
});

describe('baton run: transient failures keep it retrying', () => {
  it('nothing listening: still campaigning after several times giveUpAfter, saying what it cannot reach', async () => {
    const port = await freePort();
    const p = run(['--backend', 'redis', '--url', `redis://127.0.0.1:${port}`]);
    await p.waitForLog((l) => l.msg === 'acquire attempt failed' && /ECONNREFUSED|unreachable/.test(String(l.error)), 10_000, 'a failed attempt');
    const failures = (): number => p.logs.filter((l) => l.msg === 'acquire attempt failed').length;
    const seen = failures();
    await waitFor(() => failures() >= seen + 10, 20_000, 'ten more attempts'); // 10 × 150 ms retry > giveUpAfter
    expect(p.child.exitCode).toBeNull();
  });
});

describe('baton run: configuration errors end it at once with exit code 2', () => {
  it('an invalid duration names the field and where it was set', async () => {
    const p = new BatonProcess(['run', '--backend', 'memory', '--id', 'x', '--lease-duration', 'soon', '--', 'true']);
    running.push(p);
    expect(await p.exit(10_000)).toEqual({ code: 2, signal: null });
    expect(p.stderr.join('\n')).toMatch(/flag --lease-duration: leaseDuration: /);
  });
});
