import { describe, expect, test } from '@jest/globals';
import { ConfigError } from '@baton/core';
import { EtcdLock, EtcdLockFactory } from '../src/index.ts';
import { resolveConnection, resolveFactoryOptions } from '../src/options.ts';

// Options are checked up front, with errors naming the field; nothing here talks to etcd.

const configError = (fn: () => unknown, field: string): void => {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).field).toBe(field);
};

describe('factory options', () => {
  test('defaults', () => {
    const resolved = resolveFactoryOptions({ connection: 'http://127.0.0.1:2379' });
    expect(resolved).toMatchObject({ keyPrefix: 'baton/lock/', fencePrefix: 'baton/fence/', sessionTtlSeconds: undefined, operationTimeoutMs: 5000 });
    expect(resolveFactoryOptions({ connection: 'http://127.0.0.1:2379', session: true }).sessionTtlSeconds).toBe(10);
    expect(resolveFactoryOptions({ connection: 'http://127.0.0.1:2379', session: { ttl: '2500ms' } }).sessionTtlSeconds).toBe(3);
  });

  test('bad values name their field', () => {
    configError(() => new EtcdLockFactory({}), 'connection');
    configError(() => new EtcdLockFactory({ connection: 'http://a:1', client: {} as never }), 'client');
    configError(() => new EtcdLockFactory({ client: { kv: {} } as never }), 'client');
    configError(() => new EtcdLockFactory({ connection: 'http://a:1', keyPrefix: 'x/', fencePrefix: 'x/f/' }), 'fencePrefix');
    configError(() => new EtcdLockFactory({ connection: 'http://a:1', keyPrefix: '' }), 'keyPrefix');
    configError(() => new EtcdLockFactory({ connection: 'http://a:1', session: { ttl: '-1s' } }), 'session.ttl');
    configError(() => new EtcdLockFactory({ connection: 'http://a:1', operationTimeout: 'soon' }), 'operationTimeout');
    configError(() => new EtcdLock({ connection: 'http://a:1', name: '', identity: 'a' }), 'name');
    configError(() => new EtcdLockFactory({ connection: 'http://a:1' }).lock('x', ''), 'identity');
  });
});

describe('connection options', () => {
  test('a URL list, with credentials in the URLs', () => {
    expect(resolveConnection('http://u%40x:p%3Aw@10.0.0.1:2379, https://10.0.0.2:2379')).toEqual({
      hosts: ['http://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      tls: undefined,
      auth: { username: 'u@x', password: 'p:w' },
    });
  });

  test('hosts, TLS and auth as an object; bare host:port means plain text', () => {
    expect(resolveConnection({ hosts: ['etcd-0:2379', 'https://etcd-1:2379'], tls: { ca: 'CA' }, auth: { username: 'u', password: 'p' } })).toEqual({
      hosts: ['http://etcd-0:2379', 'https://etcd-1:2379'],
      tls: { ca: 'CA' },
      auth: { username: 'u', password: 'p' },
    });
  });

  test('mistakes are ConfigErrors naming the field', () => {
    configError(() => resolveConnection(''), 'connection');
    configError(() => resolveConnection('etcd://a:2379'), 'connection');
    configError(() => resolveConnection('http://a'), 'connection');
    configError(() => resolveConnection('http://u:1@a:1,http://v:2@b:1'), 'connection');
    configError(() => resolveConnection({ hosts: [] }), 'connection.hosts');
    configError(() => resolveConnection({ hosts: ['http://a:1'], tls: { cert: 'C' } }), 'connection.tls');
    configError(() => resolveConnection({ hosts: ['http://a:1'], auth: { username: '', password: 'p' } }), 'connection.auth');
  });
});
