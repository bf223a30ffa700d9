/**
 * `baton status [--watch]` end to end, on a lock a real `baton run` holds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { kubernetesBackend, postgresBackend, redisBackend, type E2eBackend } from './support/backends.ts';
import { BatonProcess, FAST, uniqueName } from './support/process.ts';

const BACKENDS: E2eBackend[] = [kubernetesBackend('lease'), redisBackend, postgresBackend];

const running: BatonProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

function baton(args: readonly string[]): BatonProcess {
  const process = new BatonProcess(args);
  running.push(process);
  return process;
}

describe.each(BACKENDS)('baton status on $name', (backend) => {
  let flags: string[];
  beforeAll(async () => {
    flags = await backend.setUp();
  });
  afterAll(async () => {
    await backend.tearDown();
  });

  it('prints the record like kubectl get lease, as a table or JSON, and 3 for no lock', async () => {
    const lock = uniqueName('status');
    const missing = baton(['status', ...flags, '--id', lock]);
    expect((await missing.exit(10_000)).code).toBe(3);
    expect(missing.stdout[1]).toMatch(new RegExp(`^${lock}\\s+<none>`));

    const leader = baton(['run', ...flags, '--id', lock, '--identity', 'the-leader', '--port', '0', ...FAST, '--', process.execPath, '-e', 'setInterval(() => {}, 1e9)']);
    await leader.waitForLog((l) => l.msg === 'started leading', 10_000, 'the leader');
    await leader.waitForLog((l) => l.msg === 'command started', 10_000, 'the command');
    // The token shown is the one of a term the leader logged: 1, unless on a loaded machine the
    // leader (lease 1 s) missed a renewal deadline and took its own record again (then 2, …).
    const loggedTerm = (token: number): Promise<unknown> =>
      leader.waitForLog((l) => l.msg === 'started leading' && l.fencingToken === token, 5_000, `the leader's term with token ${token}`);

    const table = baton(['status', ...flags, '--id', lock]);
    expect((await table.exit(10_000)).code).toBe(0);
    expect(table.stdout[0]).toMatch(/^NAME\s+HOLDER\s+TRANSITIONS\s+TOKEN\s+LEASE\s+ACQUIRED\s+RENEWED$/);
    const row = new RegExp(`^${lock}\\s+the-leader\\s+0\\s+(\\d+)\\s+1\\.0s\\s+\\S+ ago\\s+\\d\\d:\\d\\d:\\d\\d\\.\\d{3}$`).exec(table.stdout[1] ?? '');
    expect(row).not.toBeNull();
    await loggedTerm(Number(row![1]));

    const json = baton(['status', ...flags, '--id', lock, '-o', 'json']);
    expect((await json.exit(10_000)).code).toBe(0);
    const shown = JSON.parse(json.stdout[0]!) as { fencingToken: number };
    expect(shown).toMatchObject({
      name: lock,
      found: true,
      holderIdentity: 'the-leader',
      leaseDurationMs: 1000,
      leaderTransitions: 0,
      fencingToken: expect.any(Number),
      acquireTime: expect.stringMatching(/Z$/),
    });
    await loggedTerm(shown.fencingToken);
  });

  it('--watch prints a row at every change until interrupted', async () => {
    const lock = uniqueName('watch');
    const leader = baton(['run', ...flags, '--id', lock, '--identity', 'first', '--port', '0', ...FAST, '--', process.execPath, '-e', 'setInterval(() => {}, 1e9)']);
    await leader.waitForLog((l) => l.msg === 'started leading', 10_000, 'the leader');
    const watch = baton(['status', ...flags, '--id', lock, '--watch']);
    await watch.waitForStdout(/\sfirst\s/, 10_000);
    await watch.waitForStdout(/\sfirst\s/, 5_000, 2); // a renewal: same holder, a new renew time

    leader.signal('SIGTERM');
    await leader.exit(5_000);
    await watch.waitForStdout(/\s<released>\s/, 5_000);
    watch.signal('SIGTERM');
    expect((await watch.exit(5_000)).code).toBe(0);
    expect(watch.stdout.filter((line) => line.startsWith('NAME'))).toHaveLength(1);
  });
});
