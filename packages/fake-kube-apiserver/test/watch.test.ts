// Watch: client-node's Watch class and the raw stream. Initial state, resumption from a
// resourceVersion, 410 Gone for compacted history, selectors and their transitions, BOOKMARKs,
// sendInitialEvents, timeoutSeconds, tables, and ending on the server side.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, makeInformer, Watch, type V1Lease } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { raw, WatchReader, type Json } from './helpers.ts';

let server: FakeApiServer;
let api: CoordinationV1Api;

beforeAll(async () => {
  server = await startFakeApiServer({ bookmarkIntervalMs: 50, autoCreateNamespaces: true });
  api = server.kubeConfig.makeApiClient(CoordinationV1Api);
});
afterAll(async () => {
  await server.stop();
});

const leases = (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;

/** client-node's Watch, with its events collected and awaitable. */
class ClientWatch {
  readonly events: { type: string; obj: Json }[] = [];
  doneErr: unknown = undefined;
  isDone = false;
  private controller: AbortController | null = null;
  private wake: (() => void) | null = null;

  async start(path: string, query: Record<string, string | number | boolean | undefined>, target: FakeApiServer = server): Promise<void> {
    this.controller = await new Watch(target.kubeConfig).watch(
      path,
      query,
      (type, obj) => {
        this.events.push({ type, obj });
        this.wake?.();
      },
      (err) => {
        this.isDone = true;
        this.doneErr = err;
        this.wake?.();
      },
    );
  }

  async waitFor(pred: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; events so far: ${JSON.stringify(this.events.map((e) => e.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  stop(): void {
    this.controller?.abort();
  }
}

describe('client-node Watch', () => {
  test('ADDED, MODIFIED, DELETED from a list resourceVersion, in order', async () => {
    const ns = 'w1';
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'before' }, spec: {} } });
    const list = await api.listNamespacedLease({ namespace: ns });
    const w = new ClientWatch();
    await w.start(leases(ns), { resourceVersion: list.metadata?.resourceVersion });
    const created = await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a' } } });
    const updated = await api.replaceNamespacedLease({ name: 'l', namespace: ns, body: { ...created, spec: { holderIdentity: 'b' } } });
    await api.deleteNamespacedLease({ name: 'l', namespace: ns });
    await w.waitFor(() => w.events.length >= 3);
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(w.events[0]!.obj.metadata.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(w.events[1]!.obj.spec.holderIdentity).toBe('b');
    expect(w.events[1]!.obj.metadata.resourceVersion).toBe(updated.metadata?.resourceVersion);
    // The DELETED object is the last state, stamped with the deletion's resourceVersion.
    expect(Number(w.events[2]!.obj.metadata.resourceVersion)).toBeGreaterThan(Number(updated.metadata?.resourceVersion));
    expect(w.events[0]!.obj.kind).toBe('Lease');
    w.stop();
    await w.waitFor(() => w.isDone);
  });

  test('without a resourceVersion the current objects come first as ADDED', async () => {
    const ns = 'w2';
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'x' }, spec: {} } });
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'y' }, spec: {} } });
    const w = new ClientWatch();
    await w.start(leases(ns), {});
    await w.waitFor(() => w.events.length >= 2);
    expect(w.events.map((e) => [e.type, e.obj.metadata.name])).toEqual([
      ['ADDED', 'x'],
      ['ADDED', 'y'],
    ]);
    w.stop();
  });

  test('resuming from an old resourceVersion replays what happened since', async () => {
    const ns = 'w3';
    const a = await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'a' }, spec: {} } });
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'b' }, spec: {} } });
    await api.deleteNamespacedLease({ name: 'a', namespace: ns });
    const w = new ClientWatch();
    await w.start(leases(ns), { resourceVersion: a.metadata?.resourceVersion });
    await w.waitFor(() => w.events.length >= 2);
    expect(w.events.map((e) => [e.type, e.obj.metadata.name])).toEqual([
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
    w.stop();
  });

  test('410 Gone: an ERROR event with an Expired Status for a compacted resourceVersion', async () => {
    const small = await startFakeApiServer({ watchHistorySize: 3, autoCreateNamespaces: true });
    try {
      const sapi = small.kubeConfig.makeApiClient(CoordinationV1Api);
      const first = await sapi.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'a' }, spec: {} } });
      for (let i = 0; i < 5; i++) {
        await sapi.createNamespacedLease({ namespace: 'default', body: { metadata: { name: `n${i}` }, spec: {} } });
      }
      const w = new ClientWatch();
      await w.start('/apis/coordination.k8s.io/v1/namespaces/default/leases', { resourceVersion: first.metadata?.resourceVersion }, small);
      const reader = new WatchReader(small, `/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1&resourceVersion=${first.metadata?.resourceVersion}`);
      await reader.waitForEnd();
      expect(reader.status).toBe(200);
      expect(reader.events).toEqual([
        {
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `too old resource version: ${first.metadata?.resourceVersion} (${small.resourceVersion() - 2})`,
            reason: 'Expired',
            code: 410,
          },
        },
      ]);
      // client-node delivers the same ERROR event, then sees the stream end.
      await w.waitFor(() => w.isDone);
      expect(w.events.map((e) => [e.type, e.obj.code])).toEqual([['ERROR', 410]]);
      // A list at a compacted resourceVersion with match=Exact is 410 too.
      const exact = await fetch(`${small.url}/apis/coordination.k8s.io/v1/namespaces/default/leases?resourceVersion=${first.metadata?.resourceVersion}&resourceVersionMatch=Exact`, {
        headers: { Authorization: `Bearer ${small.adminToken}` },
      });
      expect(exact.status).toBe(410);
      await exact.text();
    } finally {
      await small.stop();
    }
  });

  test('BOOKMARK events when allowed: at start and periodically, an empty object with the resourceVersion', async () => {
    const ns = 'w4';
    const w = new ClientWatch();
    await w.start(leases(ns), { allowWatchBookmarks: true, resourceVersion: String(server.resourceVersion()) });
    await w.waitFor(() => w.events.filter((e) => e.type === 'BOOKMARK').length >= 2);
    const bm = w.events[0]!;
    expect(bm.type).toBe('BOOKMARK');
    expect(bm.obj).toEqual({
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: { resourceVersion: String(server.resourceVersion()), creationTimestamp: null },
      spec: {},
    });
    w.stop();
  });

  test('the done callback runs when the server drops the watch, and when timeoutSeconds elapses', async () => {
    const w = new ClientWatch();
    await w.start(leases('w5'), {});
    const open = server.openWatchCount();
    expect(open).toBeGreaterThanOrEqual(1);
    server.faults.dropWatches();
    await w.waitFor(() => w.isDone);
    expect(w.doneErr).toBeNull();

    const timed = new ClientWatch();
    const started = Date.now();
    await timed.start(leases('w5'), { timeoutSeconds: 1 });
    await timed.waitFor(() => timed.isDone, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('client-node informer', () => {
  test('list+watch delivers add, update and delete, and recovers when the server drops the watch', async () => {
    const ns = 'inf';
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'pre' }, spec: {} } });
    const informer = makeInformer(server.kubeConfig, leases(ns), () => api.listNamespacedLease({ namespace: ns }));
    const seen: string[] = [];
    let wake: (() => void) | null = null;
    const record = (what: string) => (obj: V1Lease): void => {
      seen.push(`${what}:${obj.metadata?.name}:${obj.spec?.holderIdentity ?? ''}`);
      wake?.();
    };
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    const waitSeen = async (entry: string): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!seen.includes(entry)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`informer never reported ${entry}; saw ${JSON.stringify(seen)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    };
    await informer.start();
    await waitSeen('add:pre:');
    const watchOpen = () => server.waitForRequest((r) => r.verb === 'watch' && r.namespace === ns, { includePast: true });
    await watchOpen();
    const l = await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a' } } });
    await waitSeen('add:l:a');
    const l2 = await api.replaceNamespacedLease({ name: 'l', namespace: ns, body: { ...l, spec: { holderIdentity: 'b' } } });
    await waitSeen('update:l:b');
    server.clearRequests();
    server.faults.dropWatches();
    await watchOpen();
    await api.replaceNamespacedLease({ name: 'l', namespace: ns, body: { ...l2, spec: { holderIdentity: 'c' } } });
    await waitSeen('update:l:c');
    await api.deleteNamespacedLease({ name: 'l', namespace: ns });
    await waitSeen('delete:l:c');
    await informer.stop();
  });
});

describe('raw watch streams', () => {
  test('chunked newline-delimited JSON; a fieldSelector on metadata.name follows one object', async () => {
    const ns = 'r1';
    const rv = String(server.resourceVersion());
    const reader = new WatchReader(server, `${leases(ns)}?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name%3Dmine`);
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'other' }, spec: {} } });
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'mine' }, spec: {} } });
    await reader.waitFor(1);
    expect(reader.events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'mine']]);
    await reader.close();
  });

  test('one change reaches exactly the watches that listen where it happened, byte-identical', async () => {
    const rv = String(server.resourceVersion());
    const from = `watch=1&resourceVersion=${rv}`;
    const pinnedA = new WatchReader(server, `${leases('r8a')}?${from}&fieldSelector=metadata.name%3Dx`);
    const pinnedOther = new WatchReader(server, `${leases('r8a')}?${from}&fieldSelector=metadata.name%3Dy`);
    const pinnedB = new WatchReader(server, `${leases('r8b')}?${from}&fieldSelector=metadata.name%3Dx`);
    const namespaceA = new WatchReader(server, `${leases('r8a')}?${from}`);
    const everywhere = new WatchReader(server, `/apis/coordination.k8s.io/v1/leases?${from}`);
    const configMaps = new WatchReader(server, `/api/v1/namespaces/r8a/configmaps?${from}`);
    await api.createNamespacedLease({ namespace: 'r8a', body: { metadata: { name: 'x' }, spec: {} } });
    await api.createNamespacedLease({ namespace: 'r8b', body: { metadata: { name: 'x' }, spec: {} } });
    await Promise.all([pinnedA.waitFor(1), pinnedB.waitFor(1), namespaceA.waitFor(1), everywhere.waitFor(2)]);
    // A later event on every stream proves the earlier ones had their chance to arrive.
    await api.createNamespacedLease({ namespace: 'r8a', body: { metadata: { name: 'y' }, spec: {} } });
    await Promise.all([pinnedOther.waitFor(1), namespaceA.waitFor(2), everywhere.waitFor(3)]);
    const names = (r: WatchReader): string[] => r.events.map((e) => `${e.object.metadata.namespace}/${e.object.metadata.name}`);
    expect(names(pinnedA)).toEqual(['r8a/x']);
    expect(names(pinnedOther)).toEqual(['r8a/y']);
    expect(names(pinnedB)).toEqual(['r8b/x']);
    expect(names(namespaceA)).toEqual(['r8a/x', 'r8a/y']);
    expect(names(everywhere)).toEqual(['r8a/x', 'r8b/x', 'r8a/y']);
    expect(configMaps.events).toEqual([]);
    expect(pinnedA.events[0]).toEqual(namespaceA.events[0]);
    expect(pinnedA.events[0]).toEqual(everywhere.events[0]);
    // Closed by the clients: each of the six leaves the index once the server sees its socket close
    // (watches of earlier tests may still be closing too, hence "at most").
    const openWithOurs = server.openWatchCount();
    for (const r of [pinnedA, pinnedOther, pinnedB, namespaceA, everywhere, configMaps]) await r.close();
    const deadline = Date.now() + 5000;
    while (server.openWatchCount() > openWithOurs - 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.openWatchCount()).toBeLessThanOrEqual(openWithOurs - 6);
  });

  test('objects handed out by listObjects and putObject are copies: changing them changes nothing served', async () => {
    server.putObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'copy', namespace: 'default' }, data: { a: '1' } });
    const [listed] = server.listObjects('configmaps', 'default').filter((o: Json) => o.metadata.name === 'copy');
    (listed as Json).data.a = 'changed';
    const got = await raw(server, 'GET', '/api/v1/namespaces/default/configmaps/copy');
    expect(got.json.data).toEqual({ a: '1' });
  });

  test('the deprecated /watch/ path prefix watches one object by name', async () => {
    const ns = 'r7';
    const reader = new WatchReader(server, `/apis/coordination.k8s.io/v1/watch/namespaces/${ns}/leases/one?resourceVersion=${server.resourceVersion()}`);
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'two' }, spec: {} } });
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'one' }, spec: {} } });
    await reader.waitFor(1);
    expect(reader.events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'one']]);
    await reader.close();
  });

  test('label selector transitions: an object that stops matching is DELETED, one that starts is ADDED', async () => {
    const ns = 'r2';
    const rv = String(server.resourceVersion());
    const reader = new WatchReader(server, `${leases(ns)}?watch=true&resourceVersion=${rv}&labelSelector=role%3Dleader`);
    const l = await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'l', labels: { role: 'follower' } }, spec: {} } });
    const promoted = await api.replaceNamespacedLease({ name: 'l', namespace: ns, body: { ...l, metadata: { ...l.metadata, labels: { role: 'leader' } } } });
    const touched = await api.replaceNamespacedLease({ name: 'l', namespace: ns, body: { ...promoted, spec: { holderIdentity: 'x' } } });
    await api.replaceNamespacedLease({ name: 'l', namespace: ns, body: { ...touched, metadata: { ...touched.metadata, labels: { role: 'follower' } } } });
    await reader.waitFor(3);
    expect(reader.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(reader.events[2]!.object.metadata.labels).toEqual({ role: 'leader' });
    await reader.close();
  });

  test('sendInitialEvents: ADDED for the current state, then a BOOKMARK annotated initial-events-end', async () => {
    const ns = 'r3';
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'a' }, spec: {} } });
    const reader = new WatchReader(
      server,
      `${leases(ns)}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
    );
    await reader.waitFor(2);
    expect(reader.events[0]!.type).toBe('ADDED');
    expect(reader.events[1]!.type).toBe('BOOKMARK');
    expect(reader.events[1]!.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    await reader.close();
    const bad = await fetch(`${server.url}${leases(ns)}?watch=1&sendInitialEvents=true`, { headers: { Authorization: `Bearer ${server.adminToken}` } });
    expect(bad.status).toBe(422);
    await bad.text();
  });

  test('Table watch events, as kubectl get -w asks for them', async () => {
    const ns = 'r4';
    const reader = new WatchReader(server, `${leases(ns)}?watch=1&resourceVersion=${server.resourceVersion()}`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 't' }, spec: { holderIdentity: 'h' } } });
    await reader.waitFor(1);
    const table = reader.events[0]!.object;
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Holder', 'Age']);
    expect(table.rows[0].cells.slice(0, 2)).toEqual(['t', 'h']);
    expect(table.rows[0].object.kind).toBe('PartialObjectMetadata');
    await reader.close();
    const bookmarks = new WatchReader(server, `${leases(ns)}?watch=1&allowWatchBookmarks=true&resourceVersion=${server.resourceVersion()}`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    await bookmarks.waitFor(1);
    expect(bookmarks.events[0]).toEqual({
      type: 'BOOKMARK',
      object: { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: String(server.resourceVersion()) }, columnDefinitions: null, rows: null },
    });
    await bookmarks.close();
  });

  test('a watch on events.k8s.io sees core/v1 Events, converted', async () => {
    const core = server.kubeConfig.makeApiClient(CoreV1Api);
    const reader = new WatchReader(server, `/apis/events.k8s.io/v1/namespaces/r5/events?watch=1&resourceVersion=${server.resourceVersion()}`);
    await core.createNamespacedEvent({
      namespace: 'r5',
      body: { metadata: { name: 'e' }, involvedObject: { kind: 'Lease', name: 'x', namespace: 'r5' }, message: 'hello', reason: 'R' },
    });
    await reader.waitFor(1);
    expect(reader.events[0]!.object.apiVersion).toBe('events.k8s.io/v1');
    expect(reader.events[0]!.object.note).toBe('hello');
    await reader.close();
  });

  test('a watch from a resourceVersion that has not happened yet delivers only what comes after it', async () => {
    const ns = 'default';
    const rv = server.resourceVersion();
    const reader = new WatchReader(server, `${leases(ns)}?watch=1&resourceVersion=${rv + 1}`);
    const l: V1Lease = await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'a' }, spec: {} } });
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'b' }, spec: {} } });
    await reader.waitFor(1);
    // rv+1 is the create of "a": events strictly after it are delivered.
    expect(l.metadata?.resourceVersion).toBe(String(rv + 1));
    expect(reader.events.map((e) => e.object.metadata.name)).toEqual(['b']);
    await reader.close();
  });
});
