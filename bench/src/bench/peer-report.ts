// The peers and throughput sections of the report: baton against the peers measured in the
// same run, as tables and as verdicts — every figure also a ratio to the best peer.
import type { PeerFigures, PeersResult } from './peers.ts';
import type { ThroughputResult } from './throughput.ts';
import { ms } from './verdict.ts';
import type { Verdict } from './verdict.ts';

/** The peers of a run: every contender that is not one of baton's own variants, and ran. */
function peersOf(p: PeersResult): PeerFigures[] {
  return p.contenders.filter((c) => !c.name.startsWith('baton') && !c.error);
}

/** The best of `peers` by `value` (`lower` is better, or higher); undefined when none. */
function best(peers: PeerFigures[], value: (c: PeerFigures) => number, lower: boolean): PeerFigures | undefined {
  const ran = peers.filter((c) => Number.isFinite(value(c)));
  return ran.sort((a, b) => (lower ? value(a) - value(b) : value(b) - value(a)))[0];
}

/** The best peer of a run for each figure (each its own); undefined when no peer ran. */
function bestPeers(p: PeersResult) {
  const peers = peersOf(p);
  if (peers.length === 0) return undefined;
  return {
    uncontended: best(peers, (c) => c.uncontended.p50, true)!,
    uncontended99: best(peers, (c) => c.uncontended.p99, true)!,
    p50: best(peers, (c) => c.handover.p50, true)!,
    p99: best(peers, (c) => c.handover.p99, true)!,
    rate: best(peers, (c) => c.handoversPerSecond, false)!,
  };
}

const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a');

/** Issue 9's absolute targets and issue 14's targets against the best peer of the same run. */
export function peerVerdicts(backend: string, p: PeersResult): Verdict[] {
  const baton = p.contenders[0];
  if (!baton || baton.error) return [];
  const twoRtt = 2 * p.rtt.p50;
  const out: Verdict[] = [
    {
      figure: 'uncontended acquire+release vs two round trips',
      backend,
      target: '≤ 1.1 × 2 RTT (issue 9)',
      measured: `${baton.uncontendedVsTwoRtt} × (${ms(baton.uncontended.p50)} ms vs 2 × ${ms(p.rtt.p50)} ms)`,
      met: baton.uncontendedVsTwoRtt <= 1.1,
    },
    {
      figure: 'contended handover (4 workers, 5 ms holds)',
      backend,
      target: 'p50 ≤ 1 ms, p99 ≤ 2 ms',
      measured: `p50 ${ms(baton.handover.p50)} ms, p99 ${ms(baton.handover.p99)} ms`,
      met: baton.handover.p50 <= 1 && baton.handover.p99 <= 2,
    },
  ];
  const bests = bestPeers(p);
  if (bests) {
    const { uncontended: fastest, p50, p99, rate } = bests;
    const within = backend === 'etcd' ? Infinity : 1.5;
    out.push({
      figure: `uncontended acquire+release vs the best peer (${fastest.name})`,
      backend,
      target: backend === 'postgres' ? '≤ best peer, ≤ 1.5 × 2 RTT, ≥ 4× faster than advisory-lock' : backend === 'etcd' ? '≤ best peer' : '≤ best peer, ≤ 1.5 × 2 RTT',
      measured: `${ratio(baton.uncontended.p50, fastest.uncontended.p50)} the peer (${ms(baton.uncontended.p50)} vs ${ms(fastest.uncontended.p50)} ms), ${(baton.uncontended.p50 / twoRtt).toFixed(2)} × 2 RTT`,
      met: baton.uncontended.p50 <= fastest.uncontended.p50 && baton.uncontended.p50 <= within * twoRtt,
    });
    const p99Bound = backend === 'redis' ? 2 : Infinity;
    out.push({
      figure: 'contended handover vs the best peer (each figure its own best)',
      backend,
      target: backend === 'redis' ? 'p50, p99 ≤ best peer, p99 ≤ 2 ms; handovers/s ≥ best peer' : 'p50, p99 ≤ best peer; handovers/s ≥ best peer',
      measured:
        `p50 ${ratio(baton.handover.p50, p50.handover.p50)} (${ms(baton.handover.p50)} vs ${ms(p50.handover.p50)} ms, ${p50.name}), ` +
        `p99 ${ratio(baton.handover.p99, p99.handover.p99)} (${ms(baton.handover.p99)} vs ${ms(p99.handover.p99)} ms, ${p99.name}), ` +
        `handovers/s ${ratio(baton.handoversPerSecond, rate.handoversPerSecond)} (${baton.handoversPerSecond} vs ${rate.handoversPerSecond}, ${rate.name})`,
      met:
        baton.handover.p50 <= p50.handover.p50 &&
        baton.handover.p99 <= p99.handover.p99 &&
        baton.handover.p99 <= p99Bound &&
        baton.handoversPerSecond >= rate.handoversPerSecond,
    });
  }
  const advisory = p.contenders.find((c) => c.name.startsWith('advisory-lock') && !c.error);
  if (advisory) {
    const faster = advisory.uncontended.p50 / baton.uncontended.p50;
    out.push({
      figure: 'uncontended acquire+release vs advisory-lock',
      backend,
      target: '≥ 10× faster (issue 9; issue 14: ≥ 4×)',
      measured: `${faster.toFixed(1)}× (${ms(baton.uncontended.p50)} ms vs ${ms(advisory.uncontended.p50)} ms)`,
      met: faster >= 10,
    });
  }
  return out;
}

/** The peers table: every contender, with baton's ratios to the best peer under it. */
export function peersTable(backend: string, p: PeersResult): string[] {
  const lines: string[] = [];
  const probe = backend === 'redis' ? 'PING' : backend === 'etcd' ? 'a one-key range read' : 'SELECT 1';
  lines.push(`## Peers on ${backend} (one run, same server; RTT p50 ${ms(p.rtt.p50)} ms — ${probe} on the same connection type)`);
  lines.push('');
  lines.push('Uncontended: every contender and the round trip take turns in 20 rounds (the order rotating), so their ratios are measured under the same conditions. Contended: one contender after another, each measured after 20 unmeasured handovers (the connections its workers open on their first wait).');
  lines.push('');
  lines.push(`| implementation | uncontended acquire+release p50 | p99 | ÷ 2 RTT | contended handover p50 (${p.workers} workers, ${p.holdMs} ms holds) | p99 | handovers/s | exclusion violations |`);
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const c of p.contenders) {
    if (c.error) {
      lines.push(`| ${c.name} | error: ${c.error} | | | | | | |`);
      continue;
    }
    lines.push(`| ${c.name} | ${ms(c.uncontended.p50)} | ${ms(c.uncontended.p99)} | ${c.uncontendedVsTwoRtt} | ${ms(c.handover.p50)} | ${ms(c.handover.p99)} | ${c.handoversPerSecond} | ${c.exclusionViolations} |`);
  }
  const baton = p.contenders[0];
  const bests = bestPeers(p);
  if (baton && !baton.error && bests) {
    const { uncontended: u, uncontended99: u99, p50: h50, p99: h99, rate } = bests;
    lines.push(
      `| baton ÷ best peer (each column its own) | ${ratio(baton.uncontended.p50, u.uncontended.p50)} | ${ratio(baton.uncontended.p99, u99.uncontended.p99)} | | ${ratio(baton.handover.p50, h50.handover.p50)} | ${ratio(baton.handover.p99, h99.handover.p99)} | ${ratio(baton.handoversPerSecond, rate.handoversPerSecond)} | |`,
    );
  }
  lines.push('');
  for (const c of p.contenders) lines.push(`- ${c.name}: ${c.settings}`);
  lines.push('');
  return lines;
}

/** baton (first contender) against the peer (second) of a throughput run: ops/s and CPU/op ratios. */
function throughputRatios(t: ThroughputResult): { opsRatio: number; cpuRatio: number } | undefined {
  const [baton, peer] = t.contenders;
  if (!baton || !peer || baton.error || peer.error) return undefined;
  return { opsRatio: baton.operationsPerSecond / peer.operationsPerSecond, cpuRatio: baton.cpuMicrosPerOperation / peer.cpuMicrosPerOperation };
}

export function throughputVerdicts(backend: string, t: ThroughputResult): Verdict[] {
  const ratios = throughputRatios(t);
  const [baton, peer] = t.contenders;
  if (!ratios || !baton || !peer) return [];
  return [
    {
      figure: `throughput (${t.names} distinct names, ${t.inFlight} in flight, one process) vs ${peer.name}`,
      backend,
      target: 'ops/s ≥ peer, CPU/op ≤ peer',
      measured: `${ratios.opsRatio.toFixed(2)}× ops/s (${baton.operationsPerSecond} vs ${peer.operationsPerSecond}), ${ratios.cpuRatio.toFixed(2)}× CPU/op (${baton.cpuMicrosPerOperation} vs ${peer.cpuMicrosPerOperation} µs)`,
      met: ratios.opsRatio >= 1 && ratios.cpuRatio <= 1,
    },
  ];
}

export function throughputTable(backend: string, t: ThroughputResult): string[] {
  const lines: string[] = [];
  const peer = t.contenders[1];
  lines.push(`## Throughput on ${backend} (acquire+release of ${t.names} distinct names × ${t.rounds} rounds, ${t.inFlight} in flight, one process; names never reused)`);
  lines.push('');
  lines.push('| implementation | ops/s | ÷ peer | CPU/op (client) | ÷ peer | CPU/op (server) | latency p50 | p99 |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const c of t.contenders) {
    if (c.error) {
      lines.push(`| ${c.name} | error: ${c.error} | | | | | | |`);
      continue;
    }
    const ops = peer && !peer.error ? (c.operationsPerSecond / peer.operationsPerSecond).toFixed(2) : 'n/a';
    const cpu = peer && !peer.error ? (c.cpuMicrosPerOperation / peer.cpuMicrosPerOperation).toFixed(2) : 'n/a';
    const server = c.serverCpuMicrosPerOperation === undefined ? 'n/a' : `${c.serverCpuMicrosPerOperation} µs`;
    lines.push(`| ${c.name} | ${c.operationsPerSecond} | ${ops} | ${c.cpuMicrosPerOperation} µs | ${cpu} | ${server} | ${ms(c.latency.p50)} ms | ${ms(c.latency.p99)} ms |`);
  }
  lines.push('');
  for (const c of t.contenders) lines.push(`- ${c.name}: ${c.settings}`);
  lines.push('');
  return lines;
}
