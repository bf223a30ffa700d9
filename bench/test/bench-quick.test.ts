import { expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, SECTIONS } from '../src/bench.ts';

// The quick profile end to end on the dedicated Redis: every section runs and writes its
// figures. It asserts what the run must produce, not timing targets (the machine is shared).
it(
  'pnpm bench --quick produces every figure (redis)',
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-quick-test-'));
    const lines: string[] = [];
    const results = await runBench({ backends: ['redis'], sections: [...SECTIONS], quick: true, out, name: 'quick', log: (l) => lines.push(l) });
    for (const ext of ['json', 'md', 'svg']) expect(existsSync(join(out, `quick.${ext}`))).toBe(true);
    expect(readFileSync(join(out, 'quick.svg'), 'utf8')).toContain('<svg');
    const r = results.backends.redis!;
    expect(r.errors).toBeUndefined();
    // Watch beats polling by orders of magnitude: milliseconds against a ~2 s retry tick.
    expect(r.handover!.watch.n).toBe(6);
    expect(r.handover!.watch.p50 * 10).toBeLessThan(r.handover!.poll.p50);
    expect(r.failover!.failover.n).toBe(2);
    expect(r.steady!.leaderAlone.leader.perSecond).toBeGreaterThan(0);
    expect(r.steady!.watching.lockCalls.followers.get ?? 0).toBe(0);
    // On the wire, every connection: the leader's renewals, and the client-go baseline's reads.
    expect(r.steady!.leaderAlone.wire.leader.readsPerSecond).toBeGreaterThan(0);
    expect(r.steady!.watching.wire.followers.connections).toBeGreaterThanOrEqual(10);
    expect(r.steady!.clientGo.wire.leader.readsPerSecond).toBeGreaterThan(0);
    // Too few failover samples for a p99: the report says max.
    expect(readFileSync(join(out, 'quick.md'), 'utf8')).toContain('crash failover max of 2');
    expect(r.peers!.contenders.map((c) => c.name)).toEqual(expect.arrayContaining(['redlock 4.2.0 (tuned)', 'redlock 4.2.0 (defaults)']));
    expect(r.scale!.allLed).toBe(true);
    expect(r.idle!.leading.connections).toBeGreaterThan(0);
    expect(r.peers!.contenders.map((c) => c.error)).toEqual(r.peers!.contenders.map(() => undefined));
    for (const c of r.peers!.contenders) expect(c.exclusionViolations).toBe(0);
    expect(r.throughput!.contenders.map((c) => [c.error, c.operations])).toEqual([[undefined, 100], [undefined, 100]]);
    // The floor: every rung ran, with its CPU (here and at the run's own server) and its ratio to the peer rung.
    expect(r.floor!.rows.map((row) => [row.error, row.uncontended.n])).toEqual(r.floor!.rows.map(() => [undefined, 60]));
    expect(r.floor!.rows.at(-1)!.vsPeer).toBe(1);
    for (const row of r.floor!.rows) expect(row.serverCpuMicros).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(out, 'quick.md'), 'utf8')).toContain('Where an uncontended acquire+release goes on redis');
    expect(results.verdicts.length).toBeGreaterThan(0);
  },
  240_000,
);
