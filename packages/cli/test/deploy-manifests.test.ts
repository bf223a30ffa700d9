/**
 * deploy/kubernetes grants exactly what the code uses: two replicas of the manifests' baton
 * configuration elect, hand over and release against the fake API server, authenticated as the
 * manifests' ServiceAccount with exactly the rules of its Roles (the server enforces RBAC as the
 * authorizer does). Every request must be allowed, and every verb on every resource a rule grants
 * must have been used — a grant the code never needs fails the test as surely as a missing one.
 */
import { afterEach, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { startFakeApiServer, type FakeApiServer, type RbacRule, type RequestRecord } from '@baton/fake-kube-apiserver';
import { createElector, loadConfig } from '@baton/runtime';
import { waitFor } from './support/process.ts';

const SERVICE_ACCOUNT = 'system:serviceaccount:default:my-app';
const TOKEN = 'my-app-service-account';

const manifest = (file: string): Record<string, any>[] =>
  parseAllDocuments(readFileSync(new URL(`../../../deploy/kubernetes/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS());

/** The rules of the Roles a file binds to the ServiceAccount, scoped to their namespace. */
function boundRules(file: string): RbacRule[] {
  const docs = manifest(file);
  const bindings = docs.filter((d) => d.kind === 'RoleBinding' && d.subjects.some((s: any) => s.kind === 'ServiceAccount' && s.name === 'my-app'));
  return bindings.flatMap((binding) => {
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === binding.roleRef.name)!;
    return role.rules.map((rule: RbacRule) => ({ ...rule, namespaces: [role.metadata.namespace] }));
  });
}

/** The baton.yaml of the ConfigMap in deployment.yaml. */
function deployedConfig(): Record<string, any> {
  const configMap = manifest('deployment.yaml').find((d) => d.kind === 'ConfigMap')!;
  return parse(configMap.data['baton.yaml']);
}

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

/** Whether a request is one the rule grants (verb, group, resource and, when named, the name). */
function grants(rule: RbacRule, verb: string, request: RequestRecord): boolean {
  return (
    request.verb === verb &&
    (rule.apiGroups ?? ['*']).some((g) => g === '*' || g === request.apiGroup) &&
    rule.resources.includes(request.resource) &&
    (!rule.resourceNames?.length || rule.resourceNames.includes(request.authorizedName))
  );
}

function unusedGrants(rules: RbacRule[], requests: RequestRecord[]): string[] {
  const unused: string[] = [];
  for (const rule of rules) {
    for (const verb of rule.verbs) {
      if (!requests.some((request) => grants(rule, verb, request))) {
        unused.push(`${verb} ${rule.resources.join(',')}${rule.resourceNames ? ` [${rule.resourceNames.join(',')}]` : ''}`);
      }
    }
  }
  return unused;
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

it('without the opt-in Role, the pod label is denied: the manifests do not grant pods by default', () => {
  expect(boundRules('rbac.yaml').some((rule) => rule.resources.includes('pods'))).toBe(false);
  expect(deployedConfig().kubernetes.leaderPodLabel).toBe(true);
});
