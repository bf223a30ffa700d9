// The pure parts: selectors, patches, time formats, Go-style decoding, request info, RBAC rules,
// the self-signed certificate.

import { describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { selfSignedCertificate } from '../src/certificate.ts';
import { applyJsonPatch, applyStrategicMergePatch, mergePatch, parseJsonPatch, PatchError } from '../src/patch.ts';
import { authorize, userFromSpec, type Attributes } from '../src/rbac.ts';
import { requestInfo } from '../src/request-info.ts';
import { decode, DecodeError, f, S } from '../src/schema.ts';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../src/selectors.ts';
import { canonicalMicroTime, canonicalTime, formatMicroTime, humanDuration, nowMicroTime } from '../src/time.ts';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  test.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web,db)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['missing!=x', true],
    ['app=web,tier=back', false],
    ['n>4', true],
    ['n<5', false],
  ])('%s', (sel, want) => {
    expect(matchLabels(parseLabelSelector(sel), labels)).toBe(want);
  });
  test('bad selectors are errors', () => {
    expect(() => parseLabelSelector('app in (a')).toThrow(SelectorError);
    expect(() => parseLabelSelector('a b')).toThrow(SelectorError);
    expect(() => parseLabelSelector('app=bad value!')).toThrow(SelectorError);
  });
  // The texts of k8s.io/apimachinery/pkg/labels.Parse, which a real server answers in its 400.
  test.each([
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['app in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['app=bad value', "found 'value', expected: ',' or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a>b', `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['a=b!', "found '!', expected: ',' or 'end of string'"],
  ])('%s: %s', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(new SelectorError(message));
  });
  test('bad keys and values name the field as labels.Parse does', () => {
    expect(() => parseLabelSelector('-a')).toThrow(/^unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of/);
    expect(() => parseLabelSelector('a=-b')).toThrow(/^unable to parse requirement: values\[0\]\[a\]: Invalid value: "-b": a valid label must be/);
  });
  test('set values are de-duplicated and sorted; empty sets hold the empty string', () => {
    expect(parseLabelSelector('x in (foo,,baz),y,z notin ()')).toEqual([
      { key: 'x', op: 'in', values: ['', 'baz', 'foo'] },
      { key: 'y', op: 'exists', values: [] },
      { key: 'z', op: 'notin', values: [''] },
    ]);
  });
});

describe('field selectors', () => {
  test('=, ==, != and escapes', () => {
    const get = (k: string): string => ({ 'metadata.name': 'a,b', 'metadata.namespace': 'ns' })[k] ?? '';
    expect(matchFields(parseFieldSelector('metadata.name=a\\,b'), get)).toBe(true);
    expect(matchFields(parseFieldSelector('metadata.name==x'), get)).toBe(false);
    expect(matchFields(parseFieldSelector('metadata.namespace!=ns'), get)).toBe(false);
    expect(parseFieldSelector('')).toEqual([]);
    expect(() => parseFieldSelector('metadata.name')).toThrow(SelectorError);
  });
});

describe('patches', () => {
  test('merge patch (RFC 7386): null deletes, objects merge, arrays replace', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: null, b: { c: 4 }, e: [2] })).toEqual({ b: { c: 4, d: 3 }, e: [2] });
  });
  test('JSON patch (RFC 6902): every op, and a failed test', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = applyJsonPatch(
      doc,
      parseJsonPatch([
        { op: 'add', path: '/a/b/-', value: 3 },
        { op: 'replace', path: '/c', value: 'y' },
        { op: 'copy', from: '/c', path: '/d' },
        { op: 'move', from: '/d', path: '/e' },
        { op: 'remove', path: '/a/b/0' },
        { op: 'test', path: '/e', value: 'y' },
        { op: 'add', path: '/k~1v', value: true },
      ]),
    );
    expect(out).toEqual({ a: { b: [2, 3] }, c: 'y', e: 'y', 'k/v': true });
    expect(doc).toEqual({ a: { b: [1, 2] }, c: 'x' });
    expect(() => applyJsonPatch(doc, parseJsonPatch([{ op: 'test', path: '/c', value: 'z' }]))).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, parseJsonPatch([{ op: 'remove', path: '/nope' }]))).toThrow(PatchError);
    expect(() => parseJsonPatch({ op: 'add' })).toThrow(PatchError);
  });
  test('strategic merge: merge keys, primitive list union, directives', () => {
    const cur = {
      metadata: { finalizers: ['a'] },
      spec: { containers: [{ name: 'c1', image: 'x:1' }, { name: 'c2', image: 'y:1' }], other: { k: 1 } },
    };
    const out = applyStrategicMergePatch(cur, {
      metadata: { finalizers: ['b'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'c1' }],
        containers: [{ name: 'c1', image: 'x:2' }, { name: 'c2', $patch: 'delete' }],
        other: { $patch: 'replace', z: 2 },
      },
    });
    expect(out).toEqual({
      metadata: { finalizers: ['a', 'b'] },
      spec: { containers: [{ name: 'c1', image: 'x:2' }], other: { z: 2 } },
    });
    expect(applyStrategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } })).toEqual({
      metadata: { finalizers: ['b'] },
    });
  });
});

describe('time', () => {
  test('MicroTime is exactly six digits, UTC; Time is whole seconds', () => {
    expect(canonicalMicroTime('2024-01-02T03:04:05.123456+01:00')).toBe('2024-01-02T02:04:05.123456Z');
    expect(() => canonicalMicroTime('2024-01-02T03:04:05Z')).toThrow('cannot parse "Z" as ".000000"');
    expect(() => canonicalMicroTime('2024-01-02T03:04:05.1234567Z')).toThrow();
    expect(() => canonicalMicroTime('2024-02-30T03:04:05.123456Z')).toThrow();
    expect(canonicalTime('2024-01-02T03:04:05.999Z')).toBe('2024-01-02T03:04:05Z');
    expect(canonicalTime('2024-01-02T03:04:05-02:30')).toBe('2024-01-02T05:34:05Z');
    expect(formatMicroTime(new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 7)), 8)).toBe('2024-01-01T00:00:00.007008Z');
    expect(nowMicroTime()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });
  test("kubectl's human durations", () => {
    expect([5_000, 125_000, 600_000, 3 * 3600_000 + 60_000, 50 * 3600_000].map(humanDuration)).toEqual(['5s', '2m5s', '10m', '3h1m', '2d2h']);
  });
});

describe('Go-style decoding', () => {
  const schema = S.object('Thing', [
    f('kind', S.string),
    f('count', S.int32, 'pointer'),
    f('name', S.string),
    f('when', S.time, 'always'),
    f('inner', S.object('Inner', [f('a', S.string)]), 'always'),
    f('tags', S.map(S.string)),
  ]);
  test('field order, omitempty, pointers, null times, empty structs, sorted maps', () => {
    const r = decode({ tags: { b: '2', a: '1' }, name: '', count: 0, kind: 'Thing', extra: 1 }, schema);
    expect(JSON.stringify(r.value)).toBe('{"kind":"Thing","count":0,"when":null,"inner":{},"tags":{"a":"1","b":"2"}}');
    expect(r.unknownFields).toEqual(['extra']);
  });
  test('type errors name the Go struct field', () => {
    expect(() => decode({ count: 1.5 }, schema)).toThrow(new DecodeError('json: cannot unmarshal number 1.5 into Go struct field Thing.count of type int32'));
    expect(() => decode({ inner: { a: 1 } }, schema)).toThrow('Go struct field Inner.inner.a of type string');
    expect(() => decode({ count: 2 ** 31 }, schema)).toThrow(DecodeError);
  });
});

describe('request info', () => {
  const info = (method: string, url: string) => requestInfo(method, new URL(url, 'http://x'));
  test.each([
    ['GET', '/api/v1/namespaces/ns/pods', { verb: 'list', resource: 'pods', namespace: 'ns', name: '' }],
    ['GET', '/api/v1/namespaces/ns/pods?watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', { verb: 'get', apiGroup: 'coordination.k8s.io', name: 'l' }],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', { verb: 'update' }],
    ['DELETE', '/api/v1/namespaces/ns/configmaps', { verb: 'deletecollection' }],
    ['GET', '/api/v1/namespaces/ns', { verb: 'get', resource: 'namespaces', name: 'ns', namespace: 'ns' }],
    ['GET', '/api/v1/namespaces/ns/status', { resource: 'namespaces', name: 'ns', subresource: 'status' }],
    ['GET', '/api/v1/watch/namespaces/ns/pods', { verb: 'watch', resource: 'pods', watchPath: true }],
    ['GET', '/api/v1/namespaces/ns/pods?fieldSelector=metadata.name%3Dp', { verb: 'list', name: '', authzName: 'p' }],
    ['GET', '/version', { isResourceRequest: false, verb: 'get' }],
  ])('%s %s', (method, url, want) => {
    expect(info(method, url)).toMatchObject(want);
  });
});

describe('RBAC rules', () => {
  const attrs = (a: Partial<Attributes>): Attributes => ({
    isResourceRequest: true,
    verb: 'get',
    path: '',
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    subresource: '',
    namespace: 'ns',
    name: 'l',
    ...a,
  });
  const user = userFromSpec({
    user: 'u',
    rules: [{ apiGroups: ['coordination.k8s.io'], verbs: ['get', 'update'], resources: ['leases'], resourceNames: ['l'], namespaces: ['ns'] }],
  });
  test.each([
    [{}, true],
    [{ verb: 'update' }, true],
    [{ verb: 'delete' }, false],
    [{ name: 'other' }, false],
    [{ name: '', verb: 'get' }, false],
    [{ namespace: 'other' }, false],
    [{ namespace: '' }, false],
    [{ apiGroup: '' }, false],
    [{ subresource: 'status' }, false],
    [{ isResourceRequest: false, path: '/apis' }, true],
    [{ isResourceRequest: false, path: '/metrics' }, false],
  ])('%j → %s', (a, want) => {
    expect(authorize(user, attrs(a))).toBe(want);
  });
  test('wildcards', () => {
    const all = userFromSpec({ user: 'w', rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['*'] }] });
    expect(authorize(all, attrs({ verb: 'deletecollection', namespace: '' }))).toBe(true);
  });
});

describe('certificate', () => {
  test('self-signed, a CA, valid for the given IPs and names, ten years', () => {
    const { certPem } = selfSignedCertificate(['127.0.0.1', '::1', 'localhost']);
    const x = new X509Certificate(certPem);
    expect(x.ca).toBe(true);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(new Date(x.validTo).getTime() - Date.now()).toBeGreaterThan(9 * 365 * 24 * 3600_000);
  });
});
