/**
 * `baton demo` in CI: the short timing profile, its own checks, and its summary.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { BatonProcess } from './support/process.ts';

const running: BatonProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

/** Processes whose command line mentions `marker` (the demo's temporary directory). */
function processesMentioning(marker: string): string[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmdline.includes(marker) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return [];
      }
    });
}

// The default (Lease objects on the fake API server, in process) and Redis; PostgreSQL's demo
// runs in process, in cli-inprocess.test.ts.
const DEMOS: Array<[string, string[]]> = [
  ['lease', []],
  ['redis', ['--backend', 'redis']],
];

describe.each(DEMOS)('baton demo --fast on %s', (backend, args) => {
  it('fails over twice, checks itself, and leaves no process behind', async () => {
    // The demo's candidates get their configuration from a directory under TMPDIR: a unique
    // one here, so the check for leftovers sees this demo's processes only.
    const tmp = await mkdtemp(join(tmpdir(), 'demo-test-'));
    const demo = new BatonProcess(['demo', '--fast', ...args], { TMPDIR: tmp });
    running.push(demo);
    const { code } = await demo.exit(60_000);
    const output = demo.stdout.join('\n');
    expect({ code, stderr: demo.stderr.join('\n'), ...(code !== 0 && { stdout: output }) }).toEqual({ code: 0, stderr: '' });

    expect(output).toContain(`three candidates on the ${backend} backend`);
    expect(output).toMatch(/GET \/leader on candidate-\d → \{"name":"candidate-\d"/);
    expect(output).toMatch(/leader_election_master_status\{name="baton-demo-[0-9a-f]+"\} 1/);
    const crash = Number(/crash failover \(SIGKILL candidate-\d → candidate-\d leads\):\s+(\d+) ms\s+ok: at most (\d+) ms/.exec(output)?.[1]);
    const graceful = /graceful handover \(SIGTERM candidate-\d → candidate-\d leads\):\s+(\d+) ms\s+ok: .*the lease was free for (\d+) ms/.exec(output);
    expect(crash).toBeGreaterThan(0);
    expect(Number(graceful?.[1])).toBeGreaterThan(0);
    // Released, not left to expire: the next leader took it well within the 1 s lease.
    expect(Number(graceful?.[2])).toBeLessThan(1_000);
    expect(output).toMatch(/one command at a time: yes\s+ok/);
    expect(output).toMatch(/exit code of candidate-\d after SIGTERM: 0 \(its command's\)\s+ok/);
    expect(output).toMatch(/processes left: 0\s+ok/);
    expect(output.trimEnd().split('\n').at(-1)).toBe('demo passed');
    expect(processesMentioning(tmp)).toEqual([]);
    await rm(tmp, { recursive: true, force: true });
  });
});
