import { describe, expect, it } from '@jest/globals';
import { PrometheusElectorMetrics } from '../src/prometheus.ts';

describe('PrometheusElectorMetrics', () => {
  it('exposes client-go’s master status and baton’s latencies', async () => {
    const metrics = new PrometheusElectorMetrics();
    metrics.register('jobs');
    metrics.newLeader('jobs');
    metrics.newLeader('jobs');
    metrics.leadershipChanged('jobs', true);
    metrics.renewed('jobs', 12, true);
    metrics.renewed('jobs', 5_000, false);
    metrics.acquireAttempted('jobs', 3, false);
    metrics.handover('jobs', 40);
    const text = await metrics.registry.metrics();
    expect(text).toContain('leader_election_master_status{name="jobs"} 1');
    expect(text).toContain('baton_leader_election_transitions_total{name="jobs"} 1');
    expect(text).toContain('baton_leader_election_renew_duration_seconds_count{name="jobs",result="success"} 1');
    expect(text).toContain('baton_leader_election_renew_duration_seconds_count{name="jobs",result="error"} 1');
    expect(text).toContain('baton_leader_election_acquire_duration_seconds_count{name="jobs",result="not_acquired"} 1');
    expect(text).toContain('baton_leader_election_handover_seconds_bucket{le="0.05",name="jobs"} 1');
  });
});
