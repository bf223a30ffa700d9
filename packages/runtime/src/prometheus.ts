import type { ElectorMetrics } from '@baton/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HANDOVER_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60];

/**
 * core's {@link ElectorMetrics} on prom-client, in its own registry:
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `leader_election_master_status` | gauge, 1 while leading (client-go's) | `name` |
 * | `baton_leader_election_transitions_total` | counter: holder changes this replica observed | `name` |
 * | `baton_leader_election_handover_seconds` | histogram: lock free → taken by this replica | `name` |
 * | `baton_leader_election_renew_duration_seconds` | histogram of the leader's renewals | `name`, `result` |
 * | `baton_leader_election_acquire_duration_seconds` | histogram of acquisition attempts | `name`, `result` |
 */
export class PrometheusElectorMetrics implements ElectorMetrics {
  readonly registry: Registry;
  private readonly masterStatus: Gauge<'name'>;
  private readonly transitions: Counter<'name'>;
  private readonly handoverSeconds: Histogram<'name'>;
  private readonly renewSeconds: Histogram<'name' | 'result'>;
  private readonly acquireSeconds: Histogram<'name' | 'result'>;
  private readonly seenLeader = new Set<string>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    this.masterStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease. Please make sure to group by name.',
      labelNames: ['name'],
      registers: [registry],
    });
    this.transitions = new Counter({
      name: 'baton_leader_election_transitions_total',
      help: 'Times this replica saw the lock change hands (a new holder observed after the first).',
      labelNames: ['name'],
      registers: [registry],
    });
    this.handoverSeconds = new Histogram({
      name: 'baton_leader_election_handover_seconds',
      help: 'Time from the lock becoming free (released, expired, holder gone) to this replica taking it.',
      labelNames: ['name'],
      buckets: HANDOVER_BUCKETS,
      registers: [registry],
    });
    this.renewSeconds = new Histogram({
      name: 'baton_leader_election_renew_duration_seconds',
      help: "Latency of the leader's lease renewals.",
      labelNames: ['name', 'result'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.acquireSeconds = new Histogram({
      name: 'baton_leader_election_acquire_duration_seconds',
      help: 'Latency of acquisition attempts by a candidate.',
      labelNames: ['name', 'result'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** Exposes `leader_election_master_status{name} 0` before the first election, as a follower. */
  register(name: string): void {
    this.masterStatus.set({ name }, 0);
    this.transitions.inc({ name }, 0);
  }

  leadershipChanged(name: string, leading: boolean): void {
    this.masterStatus.set({ name }, leading ? 1 : 0);
  }

  renewed(name: string, durationMs: number, ok: boolean): void {
    this.renewSeconds.observe({ name, result: ok ? 'success' : 'error' }, durationMs / 1000);
  }

  acquireAttempted(name: string, durationMs: number, acquired: boolean): void {
    this.acquireSeconds.observe({ name, result: acquired ? 'acquired' : 'not_acquired' }, durationMs / 1000);
  }

  handover(name: string, gapMs: number): void {
    this.handoverSeconds.observe({ name }, gapMs / 1000);
  }

  /** Feed `onNewLeader` here: every holder after the first counts as a transition. */
  newLeader(name: string): void {
    if (this.seenLeader.has(name)) this.transitions.inc({ name });
    else this.seenLeader.add(name);
  }
}
