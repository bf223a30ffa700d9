/**
 * deploy/kubernetes grants exactly what the code uses: two replicas of the manifests' baton
 * configuration elect, hand over and release against the fake API server, authenticated as the
 * manifests' ServiceAccount with exactly the rules of its Roles (the server enforces RBAC as the
 * authorizer does). Every request must be allowed, and every verb on every resource a rule grants
 * must have been used — a grant the code never needs fails the test as surely as a missing one.
 * In process, with the elector's own API; deploy-manifests-cli.test.ts runs the `baton` binary.
 */
import { afterEach, expect, it } from '@jest/globals';
import { startFakeApiServer, type FakeApiServer, type RbacRule, type RequestRecord } from '@baton/fake-kube-apiserver';
import { createElector, loadConfig } from '@baton/runtime';
import { boundRules, deployedConfig, deployedContainer, SERVICE_ACCOUNT, TOKEN, unusedGrants } from './support/manifests.ts';
import { waitFor } from './support/process.ts';

let fake: FakeApiServer | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function runReplicas(rules: RbacRule[], leaderPodLabel: boolean): Promise<RequestRecord[]> {
  fake = await startFakeApiServer({ tokens: { [TOKEN]: { user: SERVICE_ACCOUNT, rules } } });
  const server = fake;
  const deployed = deployedConfig();
  const replicas = await Promise.all(
    ['my-app-a', 'my-app-b'].map(async (podName) => {
      server.putObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'x' }] } });
      const config = await loadConfig({
        env: {},
        values: {
          ...deployed,
          namespace: 'default',
          identity: podName,
          leaseDuration: '1s',
          renewDeadline: '700ms',
          retryPeriod: '150ms',
          http: { enabled: false },
          kubernetes: { ...deployed.kubernetes, leaderPodLabel, url: server.url, token: TOKEN },
        },
      });
      const built = await createElector(config, { callbacks: { onStartedLeading: () => {} } });
      const stop = new AbortController();
      return { built, stop, done: built.elector.run(stop.signal) };
    }),
  );
  try {
    await waitFor(() => replicas.some((r) => r.built.elector.isLeader()), 5000, 'a leader');
    const leader = replicas.find((r) => r.built.elector.isLeader())!;
    const follower = replicas.find((r) => r !== leader)!;
    if (leaderPodLabel) await waitFor(() => server.listObjects('pods', 'default').some((p: any) => p.metadata.labels?.['baton.dev/leader'] === 'true'), 5000, 'the label');
    leader.stop.abort();
    await leader.done;
    await waitFor(() => follower.built.elector.isLeader(), 5000, 'the handover');
    // A read of the record, as the elector makes after a lost race or with its watch down —
    // paths this short run takes only sometimes: the grant must allow it either way.
    await follower.built.lock.get();
  } finally {
    for (const r of replicas) r.stop.abort();
    await Promise.all(replicas.map((r) => r.done));
    await Promise.all(replicas.map((r) => r.built.close()));
  }
  return server.requests().filter((r) => r.user === SERVICE_ACCOUNT);
}

it('rbac.yaml: the election is allowed every call it makes, and uses every grant', async () => {
  const rules = boundRules('rbac.yaml');
  const requests = await runReplicas(rules, false);
  expect(requests.filter((r) => r.code === 403)).toEqual([]);
  expect(requests.some((r) => r.resource === 'pods')).toBe(false);
  expect(unusedGrants(rules, requests)).toEqual([]);
});

it('rbac.yaml + rbac-leader-pod-label.yaml: the pod label is allowed too, and its grants are used', async () => {
  const labelRules = boundRules('rbac-leader-pod-label.yaml');
  const requests = await runReplicas([...boundRules('rbac.yaml'), ...labelRules], true);
  expect(requests.filter((r) => r.code === 403)).toEqual([]);
  expect(unusedGrants(labelRules, requests)).toEqual([]);
});

it('ships the pod label off, as rbac.yaml grants nothing on pods (the opt-in is rbac-leader-pod-label.yaml)', () => {
  expect(boundRules('rbac.yaml').some((rule) => rule.resources.includes('pods'))).toBe(false);
  expect(deployedConfig().kubernetes.leaderPodLabel).toBe(false);
});

it('probes readiness on /readyz (fails on permanent errors) and liveness on /healthz, on the port baton serves', () => {
  const container = deployedContainer();
  expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'baton' });
  expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'baton' });
  const port = container.ports.find((p: { name: string }) => p.name === 'baton');
  expect(port.containerPort).toBe(deployedConfig().http.port);
});
