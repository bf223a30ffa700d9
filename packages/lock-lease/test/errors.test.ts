import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AuthenticationError, BackendSetupError, BackendUnavailableError, PermissionDeniedError, isPermanentError } from '@baton/core';
import type { BatonError } from '@baton/core';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer } from 'node:net';
import { LeaseLockFactory } from '../src/index.ts';

/** One line per failure mode, typed, and `permanent` where no retry can help (issue 17). */
let fake: FakeApiServer;
const record = { holderIdentity: 'x', leaseDurationMs: 15_000, acquireTime: 0, renewTime: 0, leaderTransitions: 0, fencingToken: 1 };
const failure = (promise: Promise<unknown>): Promise<BatonError> =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as BatonError,
  );

beforeAll(async () => {
  fake = await startFakeApiServer({
    strictNamespaces: true,
    tokens: { admin: 'admin', nobody: { user: 'nobody', rules: [] } },
  });
});
afterAll(async () => {
  await fake.stop();
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('one clear line per failure', () => {
  test('unreachable API server: BackendUnavailableError naming the URL and the socket error, transient', async () => {
    const port = await closedPort();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const leases = new LeaseLockFactory({ kubeConfig, namespace: 'default', events: false });
    const error = await failure(leases.lock('my-app', 'a').get());
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toBe(`cannot reach the Kubernetes API at https://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(error.permanent).toBe(false);
    await leases.close();
  });

  test('a token the server does not know: "the API server rejected the token (401)", permanent', async () => {
    const leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfigFor('not-a-token'), namespace: 'default', events: false });
    const error = await failure(leases.lock('my-app', 'a').get());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe('the API server rejected the token (401) on get lease default/my-app');
    expect(error.permanent).toBe(true);
    await leases.close();
  });

  test('no RBAC rule: 403 naming verb, resource, name and namespace, permanent', async () => {
    const leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfigFor('nobody'), namespace: 'default', events: false });
    const lock = leases.lock('my-app', 'a');
    const read = await failure(lock.get());
    expect(read).toBeInstanceOf(PermissionDeniedError);
    expect(read.message).toMatch(/^not allowed to get leases\.coordination\.k8s\.io "my-app" in namespace "default" \(403\): .*forbidden/);
    expect(read.message.split('\n')).toHaveLength(1);
    expect(read.permanent).toBe(true);
    const write = await failure(lock.create(record));
    expect(write.message).toMatch(/^not allowed to create leases\.coordination\.k8s\.io "my-app" in namespace "default" \(403\)/);
    await leases.close();
  });

  test('a namespace that does not exist: BackendSetupError, permanent', async () => {
    const leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfigFor('admin'), namespace: 'no-such-namespace', events: false });
    const lock = leases.lock('my-app', 'a');
    const error = await failure(lock.get().then((snapshot) => (snapshot === null ? lock.create(record) : snapshot)));
    expect(error).toBeInstanceOf(BackendSetupError);
    expect(error.message).toMatch(/^namespace "no-such-namespace" does not exist \(404 on (get|create) lease no-such-namespace\/my-app\)$/);
    expect(isPermanentError(error)).toBe(true);
    await leases.close();
  });

  test('a 503 stays transient', async () => {
    const leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfigFor('admin'), namespace: 'default', events: false });
    fake.faults.failNext(1, 503);
    const error = await failure(leases.lock('my-app', 'a').get());
    fake.faults.reset();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/^get lease default\/my-app: the API server answered 503/);
    expect(error.permanent).toBe(false);
    await leases.close();
  });
});
