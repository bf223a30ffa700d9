/**
 * deploy/kubernetes with the real `baton` binary: each replica runs the Deployment's command
 * line with its ConfigMap's baton.yaml and its environment (downward API values filled in), as
 * the manifests' ServiceAccount against the fake API server, which enforces exactly the rules
 * the manifests bind (as the RBAC authorizer does). Only what a cluster would differ in is
 * replaced: the API server (a kubeconfig for the ServiceAccount's token instead of the
 * in-cluster one), the status port (two replicas share a host), and shorter timings.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { startFakeApiServer, type FakeApiServer, type RbacRule, type RequestRecord } from '@baton/fake-kube-apiserver';
import { boundRules, deployedConfig, deployedContainer, SERVICE_ACCOUNT, TOKEN, unusedGrants } from './support/manifests.ts';
import { BatonProcess, FAST, waitFor } from './support/process.ts';

/** Stands in for worker.js: runs until stopped. */
const WORKER = [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-manifests-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fake: FakeApiServer | undefined;
const running: BatonProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await fake?.stop();
  fake = undefined;
});

/** The fake API server, knowing the ServiceAccount's token with exactly `rules`, and the Deployment's pods. */
async function cluster(rules: RbacRule[], pods: readonly string[]): Promise<FakeApiServer> {
  fake = await startFakeApiServer({ tokens: { [TOKEN]: { user: SERVICE_ACCOUNT, rules } } });
  for (const name of pods) {
    fake.putObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'my-app' } }, spec: { containers: [{ name: 'app', image: 'x' }] } });
  }
  return fake;
}

/** A pod of the Deployment: what its container runs, and `baton status` run inside it (`kubectl exec`). */
interface Pod {
  run(): BatonProcess;
  status(): BatonProcess;
}

/**
 * One pod: the container's command line, with the config file written from the ConfigMap
 * (plus `kubernetes` overrides, e.g. the label opt-in), its environment, and test flags put
 * before `--`.
 */
async function pod(server: FakeApiServer, name: string, kubernetes: Record<string, unknown> = {}): Promise<Pod> {
  const deployed = deployedConfig();
  const configFile = join(dir, `${name}-baton.yaml`);
  await writeFile(configFile, stringify({ ...deployed, kubernetes: { ...deployed.kubernetes, ...kubernetes } }));
  const container = deployedContainer();
  const command: string[] = container.command;
  const separator = command.indexOf('--');
  const args = command.slice(1, separator).map((arg) => (arg === '/etc/baton/baton.yaml' ? configFile : arg));
  const kubeconfig = server.writeKubeconfig(TOKEN, join(dir, `${name}.kubeconfig`));
  const fieldRefs: Record<string, string> = { 'metadata.name': name, 'metadata.namespace': 'default' };
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? fieldRefs[e.valueFrom.fieldRef.fieldPath]]));
  const start = (argv: string[]): BatonProcess => {
    const process = new BatonProcess(argv, env);
    running.push(process);
    return process;
  };
  return {
    run: () => start([...args, '--kubeconfig', kubeconfig, '--port', '0', '--http-host', '127.0.0.1', ...FAST, '--', ...WORKER]),
    status: () => start(['status', '--config', configFile, '--kubeconfig', kubeconfig, '-o', 'json']),
  };
}

/** Starts `baton run` in a new pod. */
async function replica(server: FakeApiServer, name: string, kubernetes: Record<string, unknown> = {}): Promise<BatonProcess> {
  return (await pod(server, name, kubernetes)).run();
}

/** The status of GET `path` on a replica's status server (the probes' path and port). */
async function probe(replica: BatonProcess, path: string): Promise<number> {
  return (await fetch(`${await replica.httpUrl()}${path}`)).status;
}

const serviceAccountRequests = (server: FakeApiServer): RequestRecord[] => server.requests().filter((r) => r.user === SERVICE_ACCOUNT);
const leading = (replica: BatonProcess, pod: string) => replica.waitForLog((l) => l.msg === 'started leading' && l.identity === pod, 15_000, `${pod} to lead`);

it('rbac.yaml: two `baton run` replicas elect, hand over and release with every call allowed and every grant used', async () => {
  const rules = boundRules('rbac.yaml');
  const server = await cluster(rules, ['my-app-a', 'my-app-b']);
  const a = await replica(server, 'my-app-a');
  await leading(a, 'my-app-a');
  const b = await replica(server, 'my-app-b');
  await b.waitForLog((l) => l.msg === 'new leader observed' && l.leader === 'my-app-a', 15_000, 'b to see a');
  const { readinessProbe, livenessProbe } = deployedContainer();
  for (const r of [a, b]) {
    expect(await probe(r, readinessProbe.httpGet.path)).toBe(200);
    expect(await probe(r, livenessProbe.httpGet.path)).toBe(200);
  }
  // A rolling update: the leader gets SIGTERM, releases, and the other takes over at once.
  a.signal('SIGTERM');
  await a.exit(15_000);
  await leading(b, 'my-app-b');
  // An operator's `kubectl exec deploy/my-app -- baton status`: a GET of the Lease, which
  // `baton run` itself makes only sometimes (a renewal racing its own watch event).
  const status = (await pod(server, 'my-app-b')).status();
  expect(await status.exit(10_000)).toEqual({ code: 0, signal: null });
  expect(JSON.parse(status.stdout[0]!)).toMatchObject({ holderIdentity: 'my-app-b' });
  b.signal('SIGTERM');
  await b.exit(15_000);

  const requests = serviceAccountRequests(server);
  expect(requests.filter((r) => r.code === 401 || r.code === 403)).toEqual([]);
  expect(requests.filter((r) => r.resource === 'pods')).toEqual([]);
  expect(unusedGrants(rules, requests)).toEqual([]);
});

it('rbac.yaml alone: turning the pod label on is denied (403) and logged as a clear permission error', async () => {
  const server = await cluster(boundRules('rbac.yaml'), ['my-app-a']);
  const a = await replica(server, 'my-app-a', { leaderPodLabel: true });
  const line = await a.waitForLog((l) => l.msg === 'could not label the leader pod', 15_000, 'the label to fail');
  expect(line).toMatchObject({ level: 50 /* pino's error */, code: 'PERMISSION_DENIED', permanent: true, pod: 'my-app-a' });
  expect(line.error).toMatch(
    /^not allowed to list pods in namespace "default" \(403\): .+ — kubernetes\.leaderPodLabel needs the Role in deploy\/kubernetes\/rbac-leader-pod-label\.yaml$/,
  );
  const pods = serviceAccountRequests(server).filter((r) => r.resource === 'pods');
  expect(pods.map((r) => `${r.verb} ${r.code}`)).toEqual(['list 403']);
  expect((server.getObject('pods', 'default', 'my-app-a') as any).metadata.labels['baton.dev/leader']).toBeUndefined();
  // The election itself goes on: the label only routes traffic.
  expect(serviceAccountRequests(server).filter((r) => r.resource !== 'pods' && r.code === 403)).toEqual([]);
});

it('rbac.yaml + rbac-leader-pod-label.yaml: the label follows the leader, every call allowed, every grant used', async () => {
  const labelRules = boundRules('rbac-leader-pod-label.yaml');
  const rules = [...boundRules('rbac.yaml'), ...labelRules];
  const server = await cluster(rules, ['my-app-a', 'my-app-b']);
  const labelOf = (pod: string): unknown => (server.getObject('pods', 'default', pod) as any).metadata.labels?.['baton.dev/leader'];
  const a = await replica(server, 'my-app-a', { leaderPodLabel: true });
  await leading(a, 'my-app-a');
  const b = await replica(server, 'my-app-b', { leaderPodLabel: true });
  await waitFor(() => labelOf('my-app-a') === 'true', 10_000, 'the leader pod to be labelled');
  await b.waitForLog((l) => l.msg === 'new leader observed' && l.leader === 'my-app-a', 15_000, 'b to see a');
  a.signal('SIGTERM');
  await a.exit(15_000);
  await leading(b, 'my-app-b');
  await waitFor(() => labelOf('my-app-b') === 'true' && labelOf('my-app-a') === undefined, 10_000, 'the label to move');
  b.signal('SIGTERM');
  await b.exit(15_000);

  // rbac.yaml's own grants are proven used by the first test; here, the opt-in Role's.
  const requests = serviceAccountRequests(server);
  expect(requests.filter((r) => r.code === 401 || r.code === 403)).toEqual([]);
  expect(unusedGrants(labelRules, requests)).toEqual([]);
});

it('the readiness probe fails on a permanent error while liveness stays up: a Role without the Lease grants', async () => {
  const server = await cluster(boundRules('rbac.yaml').filter((rule) => !rule.resources.includes('leases')), ['my-app-a']);
  const a = await replica(server, 'my-app-a');
  const { readinessProbe, livenessProbe } = deployedContainer();
  await a.waitForLog((l) => l.msg === 'acquire attempt failed' && /\(403\)/.test(String(l.error)), 15_000, 'a 403');
  expect(await probe(a, readinessProbe.httpGet.path)).toBe(503);
  expect(await probe(a, livenessProbe.httpGet.path)).toBe(200);
});
