/**
 * The same application code on every backend: only the configuration file changes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeApiServer, type FakeApiServer } from '@baton/fake-kube-apiserver';
// A throwaway etcd member (/usr/bin/etcd on a free loopback port), as lock-etcd's own tests start it.
import { EtcdCluster } from '../../lock-etcd/test/support/etcd-server.ts';
import type { Container } from 'inversify';
import { loadConfig } from '../src/config/load.ts';
import { createContainer } from '../src/container.ts';
import { openLock } from '../src/elector.ts';
import { Manager } from '../src/manager.ts';
import { deleteRedisKeys, runKeyPrefix } from './support/backends.ts';
import { uniqueName, waitFor, within } from './support/process.ts';

// ---- the application: knows nothing about backends -------------------------------------

interface Replica {
  identity: string;
  manager: Manager;
  /** Fencing tokens of the terms this replica worked in. */
  worked: number[];
  working: () => boolean;
  stop(): Promise<void>;
}

async function startReplica(configFile: string, identity: string, container: Container): Promise<Replica> {
  const loaded = await loadConfig({ file: configFile, env: {}, flags: { identity } });
  const worked: number[] = [];
  let working = false;
  const manager = new Manager({
    config: loaded,
    container,
    runnables: [
      {
        name: 'report-generator',
        start: async (signal, { fencingToken }) => {
          worked.push(fencingToken!);
          working = true;
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          working = false;
        },
      },
    ],
  });
  const stop = new AbortController();
  const done = manager.start(stop.signal);
  return {
    identity,
    manager,
    worked,
    working: () => working,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

// ---- the configurations ---------------------------------------------------------------

const COMMON = 'leaseDuration: 1s\nrenewDeadline: 700ms\nretryPeriod: 150ms\nhttp: {enabled: false}\n';
let dir: string;
let apiServer: FakeApiServer;
let etcd: EtcdCluster;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-every-'));
  [apiServer, etcd] = await Promise.all([startFakeApiServer({ port: 0 }), EtcdCluster.start(1)]);
});
afterAll(async () => {
  await Promise.all([apiServer.stop(), etcd.stop()]);
  await rm(dir, { recursive: true, force: true });
  await deleteRedisKeys(redisPrefix);
});

const redisPrefix = runKeyPrefix('test');

const BACKENDS: Record<string, () => string> = {
  memory: () => 'backend: memory\n',
  lease: () => `backend: lease\nnamespace: apps\nkubernetes:\n  kubeconfig: ${apiServer.kubeconfigPath}\n`,
  endpoints: () => `backend: endpoints\nkubernetes:\n  url: ${apiServer.url}\n  token: ${apiServer.adminToken}\n`,
  configmap: () => `backend: configmap\nnamespace: kube-system\nkubernetes:\n  kubeconfig: ${apiServer.kubeconfigPath}\n`,
  redis: () => `backend: redis\nredis:\n  url: redis://127.0.0.1:6379\n  keyPrefix: "${redisPrefix}"\n`,
  postgres: () => 'backend: postgres\npostgres:\n  url: postgres://postgres@127.0.0.1:5432/test\n',
  etcd: () => `backend: etcd\netcd:\n  url: ${etcd.urls.join(',')}\n  session: true\n`,
};

describe.each(Object.keys(BACKENDS))('the same application on %s', (backend) => {
  it('elects one replica, hands over on stop, releases at the end', async () => {
    const lockName = uniqueName(`app-${backend}`);
    const file = join(dir, `${lockName}.yaml`);
    await writeFile(file, `${BACKENDS[backend]!()}leaderElectionID: ${lockName}\n${COMMON}`);
    const container = createContainer();

    const a = await startReplica(file, 'replica-a', container);
    await within(a.manager.elected, 10_000, 'replica-a elected');
    const b = await startReplica(file, 'replica-b', container);
    await waitFor(() => b.manager.getLeader() === 'replica-a', 5_000, 'replica-b to see replica-a lead');
    expect(a.working()).toBe(true);
    expect(b.worked).toEqual([]);

    await a.stop();
    await within(b.manager.elected, 5_000, 'replica-b elected after replica-a stopped');
    await waitFor(() => b.working(), 2_000, 'replica-b working');
    expect(b.worked[0]).toBeGreaterThan(a.worked[0]!);
    await b.stop();

    const observer = await openLock(await loadConfig({ file, env: {} }), { container, identity: 'observer' });
    try {
      const snapshot = await observer.lock.get();
      expect(snapshot?.record).toMatchObject({ holderIdentity: '', leaderTransitions: 1, fencingToken: b.worked[0] });
    } finally {
      await observer.close();
    }
  });
});
