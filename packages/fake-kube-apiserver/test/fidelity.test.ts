// Where kubectl and client-go notice the difference from a real API server: protobuf request bodies,
// dryRun in DeleteOptions bodies, selector error texts. The protobuf bodies are the bytes kubectl
// 1.33 sends (captured with `kubectl -v=9`), so this runs without the kubectl binary.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { decodeProtobuf } from '../src/protobuf.ts';
import { raw } from './helpers.ts';

let server: FakeApiServer;

beforeAll(async () => {
  server = await startFakeApiServer();
});
afterAll(async () => {
  await server.stop();
});

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** `kubectl create configmap cm1 --from-literal=a=b` */
const CONFIG_MAP = hex(`6b 38 73 00 0a 0f 0a 02 76 31 12 09 43 6f 6e 66 69 67 4d 61 70 12 1d 0a 13 0a 03 63 6d 31 12 00
  1a 00 22 00 2a 00 32 00 38 00 42 00 12 06 0a 01 61 12 01 62 1a 00 22 00`);
/** `kubectl create namespace nsx` */
const NAMESPACE = hex(`6b 38 73 00 0a 0f 0a 02 76 31 12 09 4e 61 6d 65 73 70 61 63 65 12 1b 0a 13 0a 03 6e 73 78 12 00
  1a 00 22 00 2a 00 32 00 38 00 42 00 12 00 1a 02 0a 00 1a 00 22 00`);

async function post(path: string, body: Buffer, contentType = 'application/vnd.kubernetes.protobuf'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': contentType, Accept: 'application/vnd.kubernetes.protobuf,application/json' },
    body: new Uint8Array(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('protobuf request bodies', () => {
  test('the envelope decodes to the JSON form: zero values as Go writes them, then dropped by the schema', () => {
    const decoded = decodeProtobuf(CONFIG_MAP);
    expect(decoded.kind).toBe('ConfigMap');
    expect(decoded.object).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: '' }, data: { a: 'b' } });
  });

  test('kubectl create configmap: 201 with the data, answered in JSON', async () => {
    const created = await post('/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create&fieldValidation=Strict', CONFIG_MAP);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'cm1', namespace: 'default' }, data: { a: 'b' } });
    expect(server.getObject('configmaps', 'default', 'cm1')?.data).toEqual({ a: 'b' });
  });

  test('kubectl create namespace: 201, with the metadata.name label the real server adds', async () => {
    const created = await post('/api/v1/namespaces', NAMESPACE);
    expect(created.status).toBe(201);
    expect(created.json.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'nsx' });
  });

  test('a Lease in protobuf: MicroTime becomes the six-digit RFC 3339 string, int32 fields numbers', async () => {
    // Hand-assembled from generated.proto's field numbers: holderIdentity=1, leaseDurationSeconds=2,
    // renewTime=4 (MicroTime seconds=1, nanos=2), leaseTransitions=5.
    const lease = hex(`6b 38 73 00 0a 1f 0a 16 63 6f 6f 72 64 69 6e 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f 76 31 12 05 4c 65 61 73 65
      12 22 0a 0a 0a 08 70 62 2d 6c 65 61 73 65 12 14 0a 01 61 10 0f 22 0b 08 80 e2 cf aa 06 10 80 94 ef 3a 28 02`);
    const created = await post('/apis/coordination.k8s.io/v1/namespaces/default/leases', lease);
    expect(created.status).toBe(201);
    expect(created.json.spec).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2023-11-14T22:13:20.123456Z', leaseTransitions: 2 });
  });

  test('a body that is not a protobuf document is 400; a kind without a table here is 415', async () => {
    const garbage = await post('/api/v1/namespaces/default/configmaps', Buffer.from('{"not":"protobuf"}'));
    expect(garbage.status).toBe(400);
    expect(garbage.json.message).toMatch(/not a protobuf document/);
    // The envelope of an Event (TypeMeta v1/Event, empty raw object): this server has no Event table.
    const event = hex('6b 38 73 00 0a 0b 0a 02 76 31 12 05 45 76 65 6e 74 12 00');
    const unsupported = await post('/api/v1/namespaces/default/events', event);
    expect(unsupported.status).toBe(415);
  });

  test('a Pod with a field number its table lacks is a 415, not a Pod with the field silently gone', async () => {
    // Pod{metadata{name "pp"}, spec{containers[{name "c", image "i"}], field 999 = "x"}}.
    const spec = hex('12 06 0a 01 63 12 01 69'); // containers (2): name (1), image (2)
    const unknown = hex('ba 3e 01 78'); // field 999, wire type 2, "x"
    const specBytes = Buffer.concat([spec, unknown]);
    const podBytes = Buffer.concat([hex('0a 04 0a 02 70 70'), Buffer.from([0x12, specBytes.length]), specBytes]);
    const envelope = Buffer.concat([hex('6b 38 73 00 0a 09 0a 02 76 31 12 03 50 6f 64'), Buffer.from([0x12, podBytes.length]), podBytes]);
    const refused = await post('/api/v1/namespaces/default/pods', envelope);
    expect(refused.status).toBe(415);
    expect(refused.json.message).toMatch(/no protobuf decoding of some fields of this Pod/);
    // The same Pod without the unknown field is created.
    const known = Buffer.concat([hex('0a 04 0a 02 70 70'), Buffer.from([0x12, spec.length]), spec]);
    const created = await post('/api/v1/namespaces/default/pods', Buffer.concat([hex('6b 38 73 00 0a 09 0a 02 76 31 12 03 50 6f 64'), Buffer.from([0x12, known.length]), known]));
    expect(created.status).toBe(201);
    expect(created.json.spec.containers).toEqual([expect.objectContaining({ name: 'c', image: 'i' })]);
  });

  test('YAML bodies are still 415, with the media types a real server lists', async () => {
    const yaml = await post('/api/v1/namespaces/default/configmaps', Buffer.from('metadata: {name: y}'), 'application/yaml');
    expect(yaml.status).toBe(415);
    expect(yaml.json.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  });
});

describe('DeleteOptions bodies', () => {
  test('dryRun in the body (kubectl delete --dry-run=server) deletes nothing', async () => {
    server.putObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', namespace: 'default' } });
    const rv = server.resourceVersion();
    const res = await raw(server, 'DELETE', '/api/v1/namespaces/default/configmaps/keep', { body: { propagationPolicy: 'Background', dryRun: ['All'] } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'keep', kind: 'configmaps' } });
    expect(server.getObject('configmaps', 'default', 'keep')).toBeDefined();
    expect(server.resourceVersion()).toBe(rv);
  });

  test('a bad dryRun value in the body is the same 400 as in the query', async () => {
    const res = await raw(server, 'DELETE', '/api/v1/namespaces/default/configmaps/keep', { body: { dryRun: ['Some'] } });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('Invalid dry run value: Some');
    expect(server.getObject('configmaps', 'default', 'keep')).toBeDefined();
  });

  test('deletecollection honours a body dryRun too', async () => {
    const res = await raw(server, 'DELETE', '/api/v1/namespaces/default/configmaps', { body: { dryRun: ['All'] } });
    expect(res.status).toBe(200);
    expect(res.json.items.map((item: any) => item.metadata.name)).toContain('keep');
    expect(server.getObject('configmaps', 'default', 'keep')).toBeDefined();
  });
});

describe('selector errors', () => {
  test('a bad label selector is a 400 with labels.Parse text, no internal token', async () => {
    const res = await raw(server, 'GET', `/apis/coordination.k8s.io/v1/namespaces/default/leases?labelSelector=${encodeURIComponent('a b')}`);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(res.json.message).toBe("unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
  });

  test('an unsupported field label is a 400 naming it', async () => {
    const res = await raw(server, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases?fieldSelector=spec.holderIdentity%3Dx');
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('field label not supported: spec.holderIdentity');
  });
});
