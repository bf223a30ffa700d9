// kubectl as an outside client: version, get (tables, -o yaml/json), get -w, apply (create,
// configure, unchanged, server-side validation errors), delete, and RBAC denials, against the
// written kubeconfig (https, since kubectl only sends credentials over TLS).

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { KUBECTL, runKubectl, type KubectlResult } from './helpers.ts';

const TIMEOUT_MS = 20_000;

let server: FakeApiServer;
let dir: string;
let limitedKubeconfig: string;

function kubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}): Promise<KubectlResult> {
  return runKubectl(opts.kubeconfig ?? server.kubeconfigPath, dir, args, { ...opts, timeoutMs: TIMEOUT_MS });
}

function manifest(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const leaseYaml = (holder: string, extra = ''): string => `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: demo
  namespace: default
spec:
  holderIdentity: ${holder}
  leaseDurationSeconds: 15
${extra}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-kubectl-'));
  server = await startFakeApiServer({
    tokens: {
      admin: 'admin',
      limited: { user: 'limited', rules: [{ apiGroups: ['coordination.k8s.io'], verbs: ['get', 'list', 'watch'], resources: ['leases'] }] },
    },
  });
  limitedKubeconfig = server.writeKubeconfig('limited', join(dir, 'limited.kubeconfig'));
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl', () => {
  test('version and discovery', async () => {
    const r = await kubectl(['version', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).serverVersion.gitVersion).toBe('v1.33.0');
    const resources = await kubectl(['api-resources', '--api-group=coordination.k8s.io', '-o', 'name']);
    expect(resources.stdout.trim()).toBe('leases.coordination.k8s.io');
  });

  test('apply creates, configures, reports unchanged; get prints the server table', async () => {
    const file = manifest('lease.yaml', leaseYaml('alice'));
    const created = await kubectl(['apply', '-f', file]);
    expect([created.code, created.stdout.trim()]).toEqual([0, 'lease.coordination.k8s.io/demo created']);
    const stored = server.getObject('leases', 'default', 'demo')!;
    expect((stored.metadata as { annotations: Record<string, string> }).annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);

    writeFileSync(file, leaseYaml('bob'));
    const configured = await kubectl(['apply', '-f', file]);
    expect([configured.code, configured.stdout.trim()]).toEqual([0, 'lease.coordination.k8s.io/demo configured']);
    expect((server.getObject('leases', 'default', 'demo')!.spec as { holderIdentity: string }).holderIdentity).toBe('bob');
    const unchanged = await kubectl(['apply', '-f', file]);
    expect(unchanged.stdout.trim()).toBe('lease.coordination.k8s.io/demo unchanged');
    // apply asked for server-side field validation (the server advertises it in OpenAPI v3).
    expect(server.requests().some((r) => r.verb === 'patch' && r.name === 'demo')).toBe(true);

    const table = await kubectl(['get', 'lease']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'HOLDER', 'AGE']);
    expect(lines[1]!.split(/\s+/).slice(0, 2)).toEqual(['demo', 'bob']);
    const json = JSON.parse((await kubectl(['get', 'lease', 'demo', '-o', 'json'])).stdout);
    expect(json.spec).toEqual({ holderIdentity: 'bob', leaseDurationSeconds: 15 });
  });

  test('apply reports server-side validation errors as the real server words them', async () => {
    const invalid = manifest('invalid.yaml', leaseYaml('x').replace('leaseDurationSeconds: 15', 'leaseDurationSeconds: 0').replace('name: demo', 'name: invalid'));
    const r = await kubectl(['apply', '-f', invalid]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The Lease "invalid" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0');
    const unknown = manifest('unknown.yaml', leaseYaml('x').replace('name: demo', 'name: typo').replace('holderIdentity: x', 'holder: x'));
    const u = await kubectl(['apply', '-f', unknown]);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain('strict decoding error: unknown field "spec.holder"');
  });

  test('get endpoints NAME -o yaml shows the leader annotation (and the deprecation warning)', async () => {
    const file = manifest(
      'ep.yaml',
      `apiVersion: v1
kind: Endpoints
metadata:
  name: ep-lock
  annotations:
    control-plane.alpha.kubernetes.io/leader: '{"holderIdentity":"x","leaseDurationSeconds":15,"acquireTime":"2024-01-01T00:00:00Z","renewTime":"2024-01-01T00:00:00Z","leaderTransitions":0}'
`,
    );
    expect((await kubectl(['apply', '-f', file])).code).toBe(0);
    const r = await kubectl(['get', 'endpoints', 'ep-lock', '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind: Endpoints');
    expect(r.stdout).toContain(`control-plane.alpha.kubernetes.io/leader: '{"holderIdentity":"x"`);
    expect(r.stdout).toMatch(/creationTimestamp: "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"/);
    expect(r.stderr).toContain('Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice');
  });

  test('get lease -w prints an update as it happens', async () => {
    const api = server.kubeConfig.makeApiClient(CoordinationV1Api);
    await api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'watched' }, spec: { holderIdentity: 'first' } } });
    const child = spawn(
      KUBECTL,
      ['--kubeconfig', server.kubeconfigPath, '--cache-dir', join(dir, 'cache'), 'get', 'lease', 'watched', '-w'],
      { env: { ...process.env, HOME: dir, KUBECONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const waitForLine = (pattern: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!pattern.test(out)) return false;
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve();
          return true;
        };
        const onData = (d: Buffer): void => {
          out += d.toString();
          check();
        };
        const timer = setTimeout(() => {
          child.stdout.off('data', onData);
          reject(new Error(`kubectl -w printed no line matching ${pattern}; stdout: ${out}; stderr: ${stderr}`));
        }, TIMEOUT_MS);
        child.stdout.on('data', onData);
        check();
      });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitForLine(/^watched\s+first\s+/m);
      // The watch request is open once kubectl has listed; wait for it on the server.
      await server.waitForRequest((r) => r.verb === 'watch' && r.resource === 'leases' && r.userAgent.startsWith('kubectl'), {
        includePast: true,
        timeoutMs: TIMEOUT_MS,
      });
      const cur = await api.readNamespacedLease({ name: 'watched', namespace: 'default' });
      await api.replaceNamespacedLease({ name: 'watched', namespace: 'default', body: { ...cur, spec: { holderIdentity: 'second' } } });
      await waitForLine(/\bwatched\s+second\b/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('delete removes the object and waits for it to be gone', async () => {
    const r = await kubectl(['delete', 'lease', 'demo']);
    expect([r.code, r.stdout.trim()]).toEqual([0, 'lease.coordination.k8s.io "demo" deleted']);
    expect(server.getObject('leases', 'default', 'demo')).toBeUndefined();
    const again = await kubectl(['delete', 'lease', 'demo']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (NotFound): leases.coordination.k8s.io "demo" not found');
  });

  test('a limited token gets Forbidden errors worded as by the RBAC authorizer', async () => {
    const ok = await kubectl(['get', 'lease', '-A'], { kubeconfig: limitedKubeconfig });
    expect(ok.code).toBe(0);
    const denied = await kubectl(['get', 'configmaps'], { kubeconfig: limitedKubeconfig });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): configmaps is forbidden: User "limited" cannot list resource "configmaps" in API group "" in the namespace "default"',
    );
    const write = await kubectl(['apply', '-f', manifest('limited.yaml', leaseYaml('z'))], { kubeconfig: limitedKubeconfig });
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('User "limited" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "default"');
  });
});
