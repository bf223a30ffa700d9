// kubectl conformance: each kubectl command, what a real kube-apiserver answers (as kubectl 1.33
// prints it), and what this server answers. The rows run in order against one server, as an
// operator would type them; the README's conformance table lists the same rows.
//
// Where kubectl itself shapes the message (e.g. after a 404 it asks whether the namespace exists
// and reports that), the row says so: the server's part is the status it answered.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { runKubectl } from './helpers.ts';

let server: FakeApiServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-conformance-'));
  writeFileSync(
    join(dir, 'lease.yaml'),
    'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: demo\n  namespace: team-a\nspec:\n  holderIdentity: a\n  leaseDurationSeconds: 15\n',
  );
  server = await startFakeApiServer();
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  args: string[];
  /** What kubectl prints against a real API server (stdout, or stderr when it fails). */
  real: string;
  exit: number;
  /** A further check of the server's state after the command. */
  then?: () => void;
}

const ROWS: Row[] = [
  { args: ['create', 'namespace', 'team-a'], real: 'namespace/team-a created', exit: 0 },
  {
    args: ['create', 'configmap', 'cfg', '--from-literal=a=b', '-n', 'team-a'],
    real: 'configmap/cfg created',
    exit: 0,
    then: () => expect(server.getObject('configmaps', 'team-a', 'cfg')?.data).toEqual({ a: 'b' }),
  },
  { args: ['create', 'configmap', 'cfg2', '--from-literal=a=b', '-n', 'missing'], real: 'error: failed to create configmap: namespaces "missing" not found', exit: 1 },
  // The API answers `configmaps "cfg" not found`; kubectl then finds the namespace missing and says so.
  { args: ['get', 'configmap', 'cfg', '-n', 'missing'], real: 'Error from server (NotFound): namespaces "missing" not found', exit: 1 },
  { args: ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080', '-n', 'team-a'], real: 'service/svc created', exit: 0 },
  { args: ['get', 'service', 'svc', '-n', 'team-a', '-o', 'jsonpath={.spec.ports[0].targetPort}'], real: '8080', exit: 0 },
  { args: ['apply', '-f', 'lease.yaml'], real: 'lease.coordination.k8s.io/demo created', exit: 0 },
  {
    args: ['delete', 'lease', 'demo', '-n', 'team-a', '--dry-run=server'],
    real: 'lease.coordination.k8s.io "demo" deleted (server dry run)',
    exit: 0,
    then: () => expect(server.getObject('leases', 'team-a', 'demo')).toBeDefined(),
  },
  { args: ['get', 'lease', 'demo', '-n', 'team-a', '-o', 'jsonpath={.spec.holderIdentity}'], real: 'a', exit: 0 },
  {
    args: ['create', 'configmap', 'dry', '--from-literal=a=b', '-n', 'team-a', '--dry-run=server'],
    real: 'configmap/dry created (server dry run)',
    exit: 0,
    then: () => expect(server.getObject('configmaps', 'team-a', 'dry')).toBeUndefined(),
  },
  { args: ['label', 'configmap', 'cfg', '-n', 'team-a', 'env=prod'], real: 'configmap/cfg labeled', exit: 0 },
  { args: ['get', 'configmap', '-n', 'team-a', '-l', 'env=prod', '-o', 'name'], real: 'configmap/cfg', exit: 0 },
  {
    args: ['get', 'leases', '-n', 'team-a', '-l', 'a b'],
    real: `Error from server (BadRequest): Unable to find "coordination.k8s.io/v1, Resource=leases" that match label selector "a b", field selector "": unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`,
    exit: 1,
  },
  {
    args: ['get', 'leases', '-n', 'team-a', '--field-selector', 'spec.holderIdentity=a'],
    real: `Error from server (BadRequest): Unable to find "coordination.k8s.io/v1, Resource=leases" that match label selector "", field selector "spec.holderIdentity=a": field label not supported: spec.holderIdentity`,
    exit: 1,
  },
  { args: ['delete', 'lease', 'demo', '-n', 'team-a'], real: 'lease.coordination.k8s.io "demo" deleted', exit: 0 },
  { args: ['delete', 'configmap', 'cfg', '-n', 'team-a'], real: 'configmap "cfg" deleted', exit: 0 },
  { args: ['run', 'p1', '--image=busybox', '--env=A=b', '--port=80', '-n', 'team-a'], real: 'pod/p1 created', exit: 0 },
  {
    // The copy is created by kubectl's typed client: a protobuf Pod body.
    args: ['debug', 'p1', '-n', 'team-a', '--copy-to=p2', '--image=busybox', '--container=dbg', '--attach=false', '--profile=general'],
    real: '',
    exit: 0,
    then: () => {
      const spec = server.getObject('pods', 'team-a', 'p2')?.spec as any;
      expect(spec.containers.map((c: any) => c.name)).toEqual(['p1', 'dbg']);
      expect(spec.containers[0]).toMatchObject({ env: [{ name: 'A', value: 'b' }], ports: [{ containerPort: 80 }], resources: {} });
      expect(spec.containers[1].securityContext).toEqual({ capabilities: { add: ['SYS_PTRACE'] } });
      expect(spec).toMatchObject({ shareProcessNamespace: true, enableServiceLinks: true, terminationGracePeriodSeconds: 30 });
      // Zero values Go's protobuf encoding writes and its JSON encoding omits stay out.
      expect(spec.containers[1]).not.toHaveProperty('stdin');
      expect(spec).not.toHaveProperty('hostNetwork');
    },
  },
  { args: ['delete', 'namespace', 'team-a'], real: 'namespace "team-a" deleted', exit: 0 },
  { args: ['get', 'namespace', 'team-a'], real: 'Error from server (NotFound): namespaces "team-a" not found', exit: 1 },
];

describe('kubectl against this server prints what it prints against a real API server', () => {
  for (const row of ROWS) {
    test(`kubectl ${row.args.join(' ')}`, async () => {
      const result = await runKubectl(server.kubeconfigPath, dir, row.args.map((a) => (a === 'lease.yaml' ? join(dir, a) : a)));
      const printed = (row.exit === 0 ? result.stdout : result.stderr).trim();
      expect({ exit: result.code, printed }).toEqual({ exit: row.exit, printed: row.real });
      row.then?.();
    });
  }
});
