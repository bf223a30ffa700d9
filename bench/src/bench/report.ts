import type { BackendName } from '../backends/types.ts';
import type { Panel } from './chart.ts';
import type { IdleResult, ScaleResult } from './cost.ts';
import type { FailoverResult } from './failover.ts';
import { floorTable } from './floor.ts';
import type { FloorResult } from './floor.ts';
import type { HandoverResult } from './handover.ts';
import type { PeersResult } from './peers.ts';
import type { SteadyPhase, SteadyResult } from './steady.ts';
import type { ThroughputResult } from './throughput.ts';
import { MIN_SAMPLES_FOR_P99, tail } from '../lib/stats.ts';
import { peersTable, peerVerdicts, throughputTable, throughputVerdicts } from './peer-report.ts';
import { ms } from './verdict.ts';
import type { Verdict } from './verdict.ts';

export interface BackendResults {
  handover?: HandoverResult;
  failover?: FailoverResult;
  steady?: SteadyResult;
  scale?: ScaleResult;
  idle?: IdleResult;
  peers?: PeersResult;
  throughput?: ThroughputResult;
  floor?: FloorResult;
  errors?: Record<string, string>;
}

export interface BenchResults {
  name: string;
  quick: boolean;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: Record<string, unknown>;
  backends: Partial<Record<BackendName, BackendResults>>;
  verdicts: Verdict[];
  /** Sections re-run later with --merge. */
  merged?: Array<{ at: string; backends: string[]; sections: string[]; machine: Record<string, unknown> }>;
}

export type { Verdict } from './verdict.ts';

/** Keep-alive traffic a follower's connection sends by design, not polling of the lock. */
const KEEPALIVE_OPS = new Set(['ping']);

/** Requests per second a side sent that are not keep-alives or watch (re)subscriptions. */
export function pollingRate(phase: SteadyPhase): number {
  let sum = 0;
  for (const [op, v] of Object.entries(phase.followers.byOp)) {
    if (KEEPALIVE_OPS.has(op) || op === 'watch' || op === 'listen' || op === 'subscribe') continue;
    sum += v;
  }
  return Math.round(sum * 1000) / 1000;
}

export function verdicts(results: BenchResults['backends']): Verdict[] {
  const out: Verdict[] = [];
  for (const [backend, r] of Object.entries(results) as Array<[BackendName, BackendResults]>) {
    if (r.handover) {
      const watchTail = tail(r.handover.watch);
      const pollTail = tail(r.handover.poll);
      out.push({
        figure: `graceful handover ${watchTail.label} (watch, default retryPeriod 2 s)`,
        backend,
        target: '≤ 50 ms',
        measured: `${ms(watchTail.value)} ms (polling ${pollTail.label}: ${ms(pollTail.value)} ms)`,
        met: watchTail.value <= 50,
      });
    }
    if (r.failover) {
      const failoverTail = tail(r.failover.failover);
      out.push({
        figure: `crash failover ${failoverTail.label} (lease ${r.failover.timings.leaseDurationMs} ms)`,
        backend,
        target: `≤ ${r.failover.targetP99Ms} ms`,
        measured: `${ms(failoverTail.value)} ms`,
        met: failoverTail.value <= r.failover.targetP99Ms,
      });
    }
    if (r.steady) {
      const polling = pollingRate(r.steady.watching);
      out.push({
        figure: 'steady load: followers poll nothing while the watch is healthy',
        backend,
        target: '0 req/s (keep-alives aside)',
        measured:
          `${polling} req/s from 10 followers (all client requests: ${r.steady.watching.followers.perSecond} req/s` +
          `${r.steady.watching.wire ? `; on the wire, every connection: ${r.steady.watching.wire.followers.readsPerSecond} reads/s over ${r.steady.watching.wire.followers.connections} connections` : ''})`,
        met: polling === 0,
      });
      out.push({
        figure: 'steady load: the leader writes once per retryPeriod (lock writes, counted at the ResourceLock)',
        backend,
        target: '1 write per retryPeriod',
        measured:
          `${r.steady.leaderWritesPerRetryPeriod} writes per retryPeriod; ${r.steady.leaderAlone.leader.perSecond} client requests/s in all` +
          `${r.steady.leaderAlone.wire ? `; on the wire, every connection: ${r.steady.leaderWireReadsPerRetryPeriod} reads per retryPeriod over ${r.steady.leaderAlone.wire.leader.connections} connections` : ''}`,
        met: Math.abs(r.steady.leaderWritesPerRetryPeriod - 1) <= 0.1,
      });
    }
    if (r.throughput) out.push(...throughputVerdicts(backend, r.throughput));
    if (r.peers) out.push(...peerVerdicts(backend, r.peers));
  }
  return out;
}

export function markdown(results: BenchResults): string {
  const lines: string[] = [];
  const backends = Object.entries(results.backends) as Array<[BackendName, BackendResults]>;
  lines.push(`# baton benchmarks — ${results.name}`);
  lines.push('');
  lines.push(`${results.startedAt}, ${results.durationS} s${results.quick ? ' (quick profile: too few samples for the targets)' : ''}.`);
  lines.push('');
  lines.push('Machine: ' + Object.entries(results.machine).map(([k, v]) => `${k} ${String(v)}`).join('; '));
  lines.push('');
  for (const m of results.merged ?? []) {
    lines.push(`Re-run and merged at ${m.at}: ${m.sections.join(', ')} on ${m.backends.join(', ')} (load average then ${String(m.machine.loadAverageAtStart)}).`);
    lines.push('');
  }
  lines.push('## Targets');
  lines.push('');
  lines.push('| figure | backend | target | measured | met |');
  lines.push('|---|---|---|---|---|');
  for (const v of results.verdicts) lines.push(`| ${v.figure} | ${v.backend} | ${v.target} | ${v.measured} | ${v.met ? 'yes' : '**no**'} |`);
  lines.push('');

  const handover = backends.filter(([, r]) => r.handover);
  if (handover.length > 0) {
    const t = handover[0]![1].handover!.timings;
    lines.push(`## Graceful handover (release sent → follower's onStartedLeading, ms; lease ${t.leaseDurationMs / 1000} s / renew ${t.renewDeadlineMs / 1000} s / retry ${t.retryPeriodMs / 1000} s)`);
    lines.push('');
    lines.push('| backend | n | watch p50 | watch p99 | watch max | polling (watch off) p50 | polling p99 | p50 speed-up |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const [b, r] of handover) {
      const h = r.handover!;
      const p99 = (s: typeof h.watch): string => (s.n >= MIN_SAMPLES_FOR_P99 ? ms(s.p99) : `max ${ms(s.max)} (n < ${MIN_SAMPLES_FOR_P99})`);
      lines.push(`| ${b} | ${h.watch.n} / ${h.poll.n} | ${ms(h.watch.p50)} | ${p99(h.watch)} | ${ms(h.watch.max)} | ${ms(h.poll.p50)} | ${p99(h.poll)} | ${(h.poll.p50 / h.watch.p50).toFixed(0)}× |`);
    }
    lines.push('');
  }
  const failover = backends.filter(([, r]) => r.failover);
  if (failover.length > 0) {
    const t = failover[0]![1].failover!.timings;
    lines.push(`## Crash failover (SIGKILL of the leader process → new leader's onStartedLeading, ms; lease ${t.leaseDurationMs} / renew ${t.renewDeadlineMs} / retry ${t.retryPeriodMs} ms)`);
    lines.push('');
    lines.push(`A p99 is shown only from ${MIN_SAMPLES_FOR_P99} samples or more; below that the tail is the maximum, labelled so.`);
    lines.push('');
    lines.push('| backend | n | p50 | p99 | max | target (p99, or max below 100 samples) |');
    lines.push('|---|---|---|---|---|---|');
    for (const [b, r] of failover) {
      const f = r.failover!;
      const p99 = f.failover.n >= MIN_SAMPLES_FOR_P99 ? ms(f.failover.p99) : `— (n < ${MIN_SAMPLES_FOR_P99})`;
      lines.push(`| ${b} | ${f.failover.n} | ${ms(f.failover.p50)} | ${p99} | ${ms(f.failover.max)} | ≤ ${f.targetP99Ms} |`);
    }
    lines.push('');
  }
  const steady = backends.filter(([, r]) => r.steady);
  if (steady.length > 0) {
    lines.push('## Steady load (requests/s on the backend, default timings, window ' + `${steady[0]![1].steady!.windowMs / 1000} s)`);
    lines.push('');
    lines.push('Client requests by operation (as counted by the column "counted"), and beside them the same traffic on the wire: client→server TCP reads per second through a proxy in front of every connection the side opened (commands, subscriber/LISTEN, session, watch streams).');
    lines.push('');
    lines.push('| backend | leader alone | leader writes / retryPeriod | 10 followers, watching (all) | of which polling | 10 followers, polling (watch off) | counted |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const [b, r] of steady) {
      const s = r.steady!;
      const ops = (rate: { byOp: Record<string, number> }): string =>
        Object.entries(rate.byOp)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
      lines.push(
        `| ${b} | ${s.leaderAlone.leader.perSecond} (${ops(s.leaderAlone.leader)}) | ${s.leaderWritesPerRetryPeriod} | ${s.watching.followers.perSecond} (${ops(s.watching.followers) || '—'}) | ${pollingRate(s.watching)} | ${s.polling.followers.perSecond} (${ops(s.polling.followers)}) | ${s.source} |`,
      );
    }
    lines.push('');
    const wired = steady.filter(([, r]) => r.steady!.clientGo);
    if (wired.length > 0) {
      lines.push('On the wire (client→server reads/s, every connection; connections open in brackets). The baseline reproduces client-go\'s loop (`bench/src/bench/client-go-loop.ts`: followers read every retryPeriod × (1 + 1.2 × rand), the leader updates every retryPeriod without a read):');
      lines.push('');
      lines.push('| backend | baton leader alone | leader reads / retryPeriod | baton, 10 watching followers | baton, 10 polling followers (watch off) | client-go loop: leader | client-go loop: 10 followers | watching ÷ client-go followers |');
      lines.push('|---|---|---|---|---|---|---|---|');
      for (const [b, r] of wired) {
        const s = r.steady!;
        const w = (x: { readsPerSecond: number; connections: number }): string => `${x.readsPerSecond} (${x.connections})`;
        const ratio = s.clientGo.wire.followers.readsPerSecond > 0 ? (s.watching.wire.followers.readsPerSecond / s.clientGo.wire.followers.readsPerSecond).toFixed(2) : 'n/a';
        lines.push(
          `| ${b} | ${w(s.leaderAlone.wire.leader)} | ${s.leaderWireReadsPerRetryPeriod} | ${w(s.watching.wire.followers)} | ${w(s.polling.wire.followers)} | ${w(s.clientGo.wire.leader)} | ${w(s.clientGo.wire.followers)} | ${ratio} |`,
        );
      }
      lines.push('');
    }
  }
  const scale = backends.filter(([, r]) => r.scale);
  if (scale.length > 0) {
    lines.push(`## Scale (${scale[0]![1].scale!.elections} concurrent elections on different lock names in one process, all leading, default timings)`);
    lines.push('');
    lines.push('| backend | all leading after | heap / election | RSS / election | CPU (% of a core) | event-loop delay p99 | connections | leading during the window | backend server CPU | release all |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const [b, r] of scale) {
      const s = r.scale!;
      const ready = s.allLed ? `${(s.readyMs / 1000).toFixed(1)} s` : `**not within ${(s.readyMs / 1000).toFixed(0)} s** (${s.leadingAtStart} leading)`;
      lines.push(
        `| ${b} | ${ready} | ${s.heapPerElectionKiB} KiB | ${s.rssPerElectionKiB} KiB | ${s.cpuPercent} % | ${s.loopDelayP99Ms} ms | ${s.connections} | ${s.leadingAtStart} → ${s.leadingAtEnd} | ${s.serverCpuPercent === undefined ? 'n/a' : `${s.serverCpuPercent} %`} | ${(s.stopMs / 1000).toFixed(1)} s |`,
      );
    }
    lines.push('');
  }
  const idle = backends.filter(([, r]) => r.idle);
  if (idle.length > 0) {
    lines.push(`## Idle cost of one elector (default timings, window ${idle[0]![1].idle!.windowMs / 1000} s; memory above a process with the adapter loaded)`);
    lines.push('');
    lines.push('| backend | baseline process CPU | following: CPU | following: heap / RSS | leading: CPU | leading: heap / RSS | connections (follow / lead) |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const [b, r] of idle) {
      const i = r.idle!;
      lines.push(
        `| ${b} | ${i.baseline.cpuPercent} % (heap ${i.baseline.heapMiB} MiB, RSS ${i.baseline.rssMiB} MiB) | ${i.following.cpuPercent} % (${i.following.cpuMsPerMinute} ms/min) | ${i.following.heapKiB} / ${i.following.rssKiB} KiB | ${i.leading.cpuPercent} % (${i.leading.cpuMsPerMinute} ms/min) | ${i.leading.heapKiB} / ${i.leading.rssKiB} KiB | ${i.following.connections} / ${i.leading.connections} |`,
      );
    }
    lines.push('');
  }
  for (const [b, r] of backends) if (r.peers) lines.push(...peersTable(b, r.peers));
  for (const [b, r] of backends) if (r.throughput) lines.push(...throughputTable(b, r.throughput));
  for (const [b, r] of backends) if (r.floor) lines.push(...floorTable(b, r.floor));
  const errors = backends.filter(([, r]) => r.errors && Object.keys(r.errors).length > 0);
  if (errors.length > 0) {
    lines.push('## Errors');
    lines.push('');
    for (const [b, r] of errors) for (const [k, v] of Object.entries(r.errors!)) lines.push(`- ${b} ${k}: ${v}`);
    lines.push('');
  }
  return lines.join('\n');
}

const COLORS = { watch: '#2e86de', poll: '#b2bec3', p50: '#2e86de', p99: '#0a3d62', floor: '#b2bec3' };

export function panels(results: BenchResults): Panel[] {
  const out: Panel[] = [];
  const backends = Object.entries(results.backends) as Array<[BackendName, BackendResults]>;
  const handover = backends.filter(([, r]) => r.handover);
  if (handover.length > 0) {
    out.push({
      title: 'Graceful handover: release → follower leads (default retryPeriod 2 s)',
      unit: 'ms',
      log: true,
      marker: { value: 50, label: 'target p99 50 ms' },
      note: 'baton with watch vs the same elector with watch off (client-go polling), p50 and p99',
      rows: handover.map(([b, r]) => ({
        label: b,
        bars: [
          { name: 'watch p50', value: r.handover!.watch.p50, color: COLORS.p50 },
          { name: 'watch p99', value: r.handover!.watch.p99, color: COLORS.p99 },
          { name: 'polling p50', value: r.handover!.poll.p50, color: COLORS.floor },
          { name: 'polling p99', value: r.handover!.poll.p99, color: '#636e72' },
        ],
      })),
    });
  }
  const failover = backends.filter(([, r]) => r.failover);
  if (failover.length > 0) {
    const t = failover[0]![1].failover!.timings;
    out.push({
      title: `Crash failover: SIGKILL of the leader → new leader (lease ${t.leaseDurationMs} ms)`,
      unit: 'ms',
      log: false,
      marker: { value: t.leaseDurationMs + 250, label: 'lease + 250 ms' },
      note: 'PostgreSQL target: p99 ≤ 1000 ms (the advisory lock dies with the session)',
      rows: failover.map(([b, r]) => ({
        label: b,
        bars: [
          { name: 'p50', value: r.failover!.failover.p50, color: COLORS.p50 },
          { name: 'p99', value: r.failover!.failover.p99, color: COLORS.p99 },
        ],
      })),
    });
  }
  for (const [b, r] of backends) {
    if (!r.peers) continue;
    out.push({
      title: `Distributed locks on ${b}: contended handover (4 workers, 5 ms holds)`,
      unit: 'ms',
      log: true,
      marker: { value: 1, label: 'target p50 1 ms' },
      rows: r.peers.contenders.filter((c) => !c.error).map((c) => ({
        label: c.name,
        bars: [
          { name: 'p50', value: c.handover.p50, color: COLORS.p50 },
          { name: 'p99', value: c.handover.p99, color: COLORS.p99 },
        ],
      })),
    });
    out.push({
      title: `Distributed locks on ${b}: uncontended acquire + release (p50)`,
      unit: 'ms',
      log: true,
      marker: { value: 2 * r.peers.rtt.p50, label: `2 RTT = ${ms(2 * r.peers.rtt.p50)} ms` },
      rows: r.peers.contenders.filter((c) => !c.error).map((c) => ({
        label: c.name,
        bars: [{ name: 'p50', value: c.uncontended.p50, color: COLORS.p50 }],
      })),
    });
  }
  return out;
}
