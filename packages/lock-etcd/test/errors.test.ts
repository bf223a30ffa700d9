import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BackendUnavailableError, PermissionDeniedError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { Etcd3 } from 'etcd3';
import { EtcdLock } from '../src/index.ts';
import { freePort } from '@baton/testkit';
import { EtcdCluster } from './support/etcd-server.ts';

// Typed errors from a real etcd with authentication on: refused credentials and missing
// permissions are PermissionDeniedError with one clear line; nothing listening is
// BackendUnavailableError, quickly.

let cluster: EtcdCluster;
const record: LeaderElectionRecord = { holderIdentity: 'a', leaseDurationMs: 10_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };

beforeAll(async () => {
  cluster = await EtcdCluster.start(1);
  const admin = cluster.adminClient();
  await (await admin.user('root').create('root-pw')).addRole('root');
  // `locker` may read and write baton/ keys; `outsider` may only read elsewhere.
  const locker = await admin.role('locker').create();
  await locker.grant({ permission: 'Readwrite', range: admin.range({ prefix: 'baton/' }) });
  await (await admin.user('locker').create('locker-pw')).addRole('locker');
  const outsider = await admin.role('outsider').create();
  await outsider.grant({ permission: 'Read', range: admin.range({ prefix: 'elsewhere/' }) });
  await (await admin.user('outsider').create('outsider-pw')).addRole('outsider');
  await admin.auth.authEnable();
  admin.close();
});

afterAll(async () => {
  await cluster.stop();
});

const lockAs = (username: string | undefined, password = `${username}-pw`): EtcdLock =>
  new EtcdLock({
    connection: { hosts: cluster.urls, ...(username === undefined ? {} : { auth: { username, password } }) },
    name: `auth-${username ?? 'anonymous'}`,
    identity: 'a',
  });

const refusal = async (lock: EtcdLock, call: (lock: EtcdLock) => Promise<unknown>): Promise<PermissionDeniedError> => {
  try {
    await call(lock);
  } catch (error) {
    return error as PermissionDeniedError;
  } finally {
    await lock.close();
  }
  throw new Error('expected a refusal');
};

describe('authentication and permissions', () => {
  test('a user with the right role reads and writes', async () => {
    const lock = lockAs('locker');
    const created = await lock.create(record);
    expect((await lock.get())?.version).toBe(created.version);
    await lock.close();
  });

  test('a wrong password is a PermissionDeniedError saying so', async () => {
    const error = await refusal(lockAs('locker', 'wrong'), (lock) => lock.get());
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.message).toBe('etcd baton/lock/auth-locker: get refused: etcd refused the user name or password (authentication failed)');
    expect(error.cause).toBeInstanceOf(Error);
  });

  test('a user whose roles do not cover the keys is a PermissionDeniedError saying so', async () => {
    const error = await refusal(lockAs('outsider'), (lock) => lock.create(record));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.message).toMatch(/create refused: the etcd user's roles do not grant this operation on the lock's keys \(permission denied\)$/);
  });

  test('no credentials at all on an etcd with authentication is a PermissionDeniedError', async () => {
    const error = await refusal(lockAs(undefined), (lock) => lock.get());
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.message.split('\n')).toHaveLength(1);
  });
});

describe('unreachable', () => {
  test('nothing listening: BackendUnavailableError well within the operation timeout', async () => {
    const port = await freePort();
    const lock = new EtcdLock({ connection: `http://127.0.0.1:${port}`, name: 'nobody', identity: 'a', operationTimeout: '3s' });
    const started = performance.now();
    await expect(lock.get()).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(performance.now() - started).toBeLessThan(2500);
    await lock.close();
  });

  test('an own client that cannot connect fails with BackendUnavailableError too', async () => {
    const own = new Etcd3({ hosts: `127.0.0.1:${await freePort()}` });
    const lock = new EtcdLock({ client: own, name: 'nobody', identity: 'a', operationTimeout: '2s' });
    await expect(lock.create(record)).rejects.toBeInstanceOf(BackendUnavailableError);
    await lock.close();
    own.close();
  });
});
