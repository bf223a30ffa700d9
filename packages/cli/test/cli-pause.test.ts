/**
 * A paused `baton run` must not let two commands act at once (issue 16): SIGSTOP the leading
 * baton process — not its command — for longer than leaseDuration. The other replica takes
 * over once the lease has expired; the paused replica's watchdog, which keeps the lease
 * deadline outside baton's event loop, must have stopped the old command before that.
 *
 * Both commands append `<identity> <monotonic ns>` to one file at 20 Hz; the monotonic clock
 * (`process.hrtime`) is the machine's, the same in every process, so the lines of the two
 * commands can be ordered exactly.
 *
 * With BATON_PAUSE_GAPS=FILE the measured gaps (old command's last write → new command's
 * first, ms, per backend) are written there as JSON: the READMEs cite the committed
 * `bench/results/pause-gaps.json`, not figures copied by hand.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EtcdCluster } from '@baton/testkit';
import { deleteRedisKeys, kubernetesBackend, postgresBackend, runKeyPrefix, type E2eBackend } from './support/backends.ts';
import { BatonProcess, FAST, uniqueName, waitFor } from './support/process.ts';

const prefix = runKeyPrefix('pause');
const redis: E2eBackend = {
  name: 'redis',
  setUp: async () => ['--backend', 'redis', '--url', 'redis://127.0.0.1:6379', '--redis-key-prefix', prefix],
  tearDown: () => deleteRedisKeys(prefix),
};
let cluster: EtcdCluster | undefined;
const etcd: E2eBackend = {
  name: 'etcd',
  setUp: async () => {
    cluster = await EtcdCluster.start();
    return ['--backend', 'etcd', '--url', cluster.urls.join(',')];
  },
  tearDown: async () => {
    await cluster?.stop();
  },
};
const BACKENDS: E2eBackend[] = [kubernetesBackend('lease'), kubernetesBackend('endpoints'), redis, postgresBackend, etcd];

/** Appends `<identity> <ns>` to `file` every 50 ms; says when it starts. */
const writer = (file: string): string[] => [
  process.execPath,
  '-e',
  `const fs = require('fs'); const id = process.env.BATON_IDENTITY;
   process.on('SIGTERM', () => process.exit(0));
   console.log('child ' + id + ' started');
   const write = () => fs.appendFileSync(${JSON.stringify(file)}, id + ' ' + process.hrtime.bigint() + '\\n');
   write(); setInterval(write, 50);`,
];

let dir: string;
const running: BatonProcess[] = [];
const PAUSE_MS = 1_500;
/** Gap per backend, ms, for BATON_PAUSE_GAPS. */
const gaps: Record<string, number> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-pause-'));
});
afterEach(async () => {
  for (const p of running) p.signal('SIGCONT');
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const out = process.env.BATON_PAUSE_GAPS;
  if (out) {
    const results = {
      test: 'packages/cli/test/cli-pause.test.ts',
      measuredAt: new Date().toISOString(),
      timings: FAST.join(' '),
      pauseMs: PAUSE_MS,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      gapMs: gaps,
    };
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  }
});

describe.each(BACKENDS)('a paused baton run on $name', (backend) => {
  let flags: string[];
  beforeAll(async () => {
    flags = await backend.setUp();
  });
  afterAll(async () => {
    await backend.tearDown();
  });

  it('has its command stopped before the next leader’s command starts', async () => {
    const lock = uniqueName('pause');
    const file = join(dir, `${backend.name}-${lock}`);
    const candidate = (identity: string): BatonProcess => {
      const p = new BatonProcess(['run', ...flags, '--id', lock, '--identity', identity, '--port', '0', ...FAST, '--', ...writer(file)]);
      running.push(p);
      return p;
    };
    const a = candidate('a');
    await a.waitForStdout(/^child a started/, 10_000);
    const b = candidate('b');
    await b.waitForLog((l) => l.msg === 'new leader observed' && l.leader === 'a', 10_000, 'b to see a');

    const read = async () => (await readFile(file, 'utf8')).trim().split('\n').map((line) => line.split(' ') as [string, string]);
    // a leads for more than one renewDeadline (700 ms) first, its renewals moving the watchdog's
    // deadline (child.test.ts shows a renewed deadline never stops the command).
    const firstOfA = BigInt((await read())[0]![1]);
    await waitFor(async () => BigInt((await read()).at(-1)![1]) - firstOfA > 1_200_000_000n, 10_000, "a's command to write for 1.2 s");

    const pausedAt = process.hrtime.bigint();
    a.signal('SIGSTOP');
    await b.waitForStdout(/^child b started/, 10_000);
    // The fault's length, not a wait for an event: a stays stopped 1.5 leaseDurations in all.
    const pausedMs = Number(process.hrtime.bigint() - pausedAt) / 1e6;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PAUSE_MS - pausedMs)));
    a.signal('SIGCONT');
    await a.waitForLog((l) => l.msg === 'command exited', 5_000, 'a to hear its command has exited');
    // b's command keeps writing: a few lines after a resumed show whether a's command wrote again.
    const linesNow = (await read()).length;
    await waitFor(async () => (await read()).length >= linesNow + 4, 5_000, 'more lines after a resumed');

    const lines = await read();
    const lastOfA = lines.filter(([id]) => id === 'a').map(([, ns]) => BigInt(ns)).at(-1)!;
    const firstOfB = lines.filter(([id]) => id === 'b').map(([, ns]) => BigInt(ns))[0]!;
    const gapMs = Number(firstOfB - lastOfA) / 1e6;
    process.stdout.write(`pause test on ${backend.name}: old command's last write ${gapMs.toFixed(0)} ms before the new command's first\n`);
    expect(lastOfA).toBeLessThan(firstOfB);
    expect(a.logs.some((l) => l.msg.startsWith('leadership lapsed before baton could renew it'))).toBe(true);
    gaps[backend.name] = Math.round(gapMs * 10) / 10;
  });
});
