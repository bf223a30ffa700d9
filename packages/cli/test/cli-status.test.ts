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
    // The term's token, as the leader logged it: 1, unless a first create was answered after its
    // deadline on a loaded machine and the leader took its own record again.
    const { fencingToken } = await leader.waitForLog((l) => l.msg === 'started leading', 10_000, 'the leader');
    await leader.waitForLog((l) => l.msg === 'command started', 10_000, 'the command');

    const table = baton(['status', ...flags, '--id', lock]);
    expect((await table.exit(10_000)).code).toBe(0);
    expect(table.stdout[0]).toMatch(/^NAME\s+HOLDER\s+TRANSITIONS\s+TOKEN\s+LEASE\s+ACQUIRED\s+RENEWED$/);
    expect(table.stdout[1]).toMatch(new RegExp(`^${lock}\\s+the-leader\\s+0\\s+${String(fencingToken)}\\s+1\\.0s\\s+\\S+ ago\\s+\\d\\d:\\d\\d:\\d\\d\\.\\d{3}$`));

    const json = baton(['status', ...flags, '--id', lock, '-o', 'json']);
    expect((await json.exit(10_000)).code).toBe(0);
    expect(JSON.parse(json.stdout[0]!)).toMatchObject({
      name: lock,
      found: true,
      holderIdentity: 'the-leader',
      leaseDurationMs: 1000,
      leaderTransitions: 0,
      fencingToken,
      acquireTime: expect.stringMatching(/Z$/),
    });
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
