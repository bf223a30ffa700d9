/**
 * The failure table of the CLI README, one row per test: how `baton run` reports each way a
 * configuration can be wrong. A permanent error ends baton after `giveUpAfter` (here 1 s) with
 * exit code 4 and one line saying what is wrong, not ready meanwhile; a transient one keeps it
 * retrying and ready (a backend blip must not take every replica out of its Service at once).
 * Servers with special settings are the test's own: a throwaway redis-server (a password) and
 * the fake API server; the shared PostgreSQL is only read from.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeApiServer, type FakeApiServer } from '@baton/fake-kube-apiserver';
import { freePort, rawCommand, RedisServerProcess } from '@baton/testkit';
import { BatonProcess, FAST, uniqueName, waitFor } from './support/process.ts';

const exec = promisify(execFile);

let redis: RedisServerProcess;
let kube: FakeApiServer;
const running: BatonProcess[] = [];

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  // Set once it answers: the start waits for a PING, which a password would refuse.
  expect(await rawCommand(redis.port, 'CONFIG SET requirepass right')).toMatch(/^\+OK/);
  // A token that may do nothing at all, beside the admin one.
  kube = await startFakeApiServer({ port: 0, tokens: { 'nobody-token': { user: 'nobody', rules: [] } } });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  await redis?.stop();
  await kube?.stop();
});

/** `baton run` on lock `id` with `flags`, giving up on permanent errors after 1 s. */
function run(flags: readonly string[], id = uniqueName('fail'), http = ['--no-http']): BatonProcess {
  const p = new BatonProcess(['run', '--id', id, ...http, ...FAST, '--give-up-after', '1s', ...flags, '--', 'true']);
  running.push(p);
  return p;
}

/** The one line baton prints on stderr as it exits (its JSON log lines aside). */
const lastLine = (p: BatonProcess): string[] => p.stderr.filter((line) => line.startsWith('baton: '));

async function expectGaveUp(p: BatonProcess, line: RegExp): Promise<void> {
  expect(await p.exit(20_000)).toEqual({ code: 4, signal: null });
  expect(lastLine(p)).toEqual([expect.stringMatching(/^baton: gave up after \d+ ms of permanent errors: /)]);
  expect(lastLine(p)[0]).toMatch(line);
}

describe('baton run: permanent failures end it with exit code 4 and one line', () => {
  const rows: Array<[string, () => string[], RegExp]> = [
    ['Redis rejects the password', () => ['--backend', 'redis', '--url', `redis://:wrong@127.0.0.1:${redis.port}`], /Redis rejected the credentials: WRONGPASS/],
    ['Redis wants a password and none is given (NOAUTH)', () => ['--backend', 'redis', '--url', `redis://127.0.0.1:${redis.port}`], /: Redis requires a password and none was given \(NOAUTH\): put it in the URL, redis:\/\/:password@host:port/],
    ['Redis has no such database', () => ['--backend', 'redis', '--url', `redis://:right@127.0.0.1:${redis.port}/99`], /Redis has no database 99/],
    ['PostgreSQL has no such database', () => ['--backend', 'postgres', '--url', 'postgres://postgres@127.0.0.1:5432/baton_no_such_db'], /database "baton_no_such_db" does not exist/],
    ['PostgreSQL rejects the user', () => ['--backend', 'postgres', '--url', 'postgres://baton_no_such_role@127.0.0.1:5432/test'], /PostgreSQL rejected the credentials/],
    ['the API server rejects the token (401)', () => ['--backend', 'lease', '--url', kube.url, '--token', 'not-a-token'], /the API server rejected the token \(401\)/],
    ['RBAC forbids the call (403)', () => ['--backend', 'lease', '--url', kube.url, '--token', 'nobody-token'], /not allowed to \w+ leases\.coordination\.k8s\.io .*\(403\)/],
    ['the namespace does not exist', () => ['--backend', 'lease', '--url', kube.url, `--token=${kube.adminToken}`, '--namespace', 'no-such-namespace'], /namespace "no-such-namespace" does not exist|namespaces "no-such-namespace" not found/],
  ];
  it.each(rows)('%s', async (_, flags, line) => {
    await expectGaveUp(run(flags()), line);
  });
});

describe('baton run: a record that is not baton’s stays corrupt, ends it with exit code 4 and one line naming it', () => {
  const rows: Array<[string, (id: string) => Promise<string[]>, (id: string) => RegExp]> = [
    [
      'Redis: the key holds a string, not a hash',
      async (id) => {
        await exec('redis-cli', ['-p', String(redis.port), '--no-auth-warning', '-a', 'right', 'SET', `baton:{${id}}`, 'not a record']);
        return ['--backend', 'redis', '--url', `redis://:right@127.0.0.1:${redis.port}`];
      },
      (id) => new RegExp(`: redis baton:\\{${id}\\}: invalid leader election record: the key holds a string, not a hash$`),
    ],
    [
      'Lease: a holder but no spec.leaseDurationSeconds',
      async (id) => {
        kube.putObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: id, namespace: 'default' }, spec: { holderIdentity: 'someone-else' } });
        return ['--backend', 'lease', '--url', kube.url, `--token=${kube.adminToken}`, '--namespace', 'default'];
      },
      (id) => new RegExp(`: lease default/${id}: invalid leader election record: spec\\.leaseDurationSeconds must be a positive integer, got undefined$`),
    ],
    [
      'ConfigMap: the leader annotation is not JSON',
      async (id) => {
        const annotations = { 'control-plane.alpha.kubernetes.io/leader': 'someone-else' };
        kube.putObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: id, namespace: 'default', annotations } });
        return ['--backend', 'configmap', '--url', kube.url, `--token=${kube.adminToken}`, '--namespace', 'default'];
      },
      (id) => new RegExp(`: configmap default/${id}: invalid leader election record: annotation control-plane\\.alpha\\.kubernetes\\.io/leader is not JSON: "someone-else"$`),
    ],
  ];
  it.each(rows)('%s', async (_, plant, line) => {
    const id = uniqueName('corrupt');
    await expectGaveUp(run(await plant(id), id), line(id));
  });
});

describe('baton run: nothing listening keeps it retrying and ready, saying what it cannot reach', () => {
  const rows: Array<[string, (port: number) => string[], (port: number) => RegExp]> = [
    ['Redis', (port) => ['--backend', 'redis', '--url', `redis://127.0.0.1:${port}`], (port) => new RegExp(`^redis baton:\\{down-\\w+\\}: acquireIfFree: Redis is unreachable \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`)],
    ['PostgreSQL', (port) => ['--backend', 'postgres', '--url', `postgres://postgres@127.0.0.1:${port}/test`], (port) => new RegExp(`^postgres public\\.baton_locks/down-\\w+: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`)],
    [
      'the Kubernetes API',
      (port) => ['--backend', 'lease', '--url', `http://127.0.0.1:${port}`, '--token', 'any'],
      (port) => new RegExp(`^cannot reach the Kubernetes API at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`),
    ],
  ];
  it.each(rows)('%s', async (_, flags, line) => {
    const port = await freePort();
    const p = run(flags(port), uniqueName('down'), ['--port', '0', '--http-host', '127.0.0.1']);
    const url = await p.httpUrl();
    const failed = await p.waitForLog((l) => l.msg === 'acquire attempt failed' && line(port).test(String(l.error)), 10_000, 'a failed attempt');
    const failures = (): number => p.logs.filter((l) => l.msg === 'acquire attempt failed').length;
    const seen = failures();
    await waitFor(() => failures() >= seen + 10, 20_000, 'ten more attempts'); // 10 × 150 ms retry > giveUpAfter
    expect(p.child.exitCode).toBeNull();
    // Transient: retried for as long as it lasts, and readiness stays (only a permanent error,
    // which no retry will cure, makes the pod unready).
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(String(failed.error).split('\n')).toHaveLength(1);
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
