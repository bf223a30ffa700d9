import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BackendUnavailableError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { EtcdLock } from '../src/index.ts';
import type { EtcdConnectionOptions } from '../src/index.ts';
import { EtcdCluster, makeCertificates } from '@baton/testkit';
import type { TestCertificates } from '@baton/testkit';

// TLS on a real etcd whose client port serves a certificate from a throwaway CA and requires
// client certificates: the connection options' `tls` reaches gRPC as given.

let certs: TestCertificates;
let cluster: EtcdCluster;
const record: LeaderElectionRecord = { holderIdentity: 'a', leaseDurationMs: 10_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };

beforeAll(async () => {
  certs = makeCertificates();
  cluster = await EtcdCluster.start(1, undefined, { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile });
});

afterAll(async () => {
  await cluster.stop();
  certs.remove();
});

async function attempt(connection: EtcdConnectionOptions, name: string): Promise<unknown> {
  const lock = new EtcdLock({ connection, name, identity: 'a', operationTimeout: '2s' });
  try {
    const created = await lock.create(record);
    expect((await lock.get())?.version).toBe(created.version);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await lock.close();
  }
}

describe('TLS', () => {
  test('the CA and a client certificate: reads and writes', async () => {
    expect(cluster.urls[0]).toMatch(/^https:/);
    expect(await attempt({ hosts: cluster.urls, tls: { ca: certs.ca, cert: certs.clientCert, key: Buffer.from(certs.clientKey) } }, 'tls-ok')).toBeUndefined();
  });

  test('without a client certificate etcd refuses the handshake: BackendUnavailableError', async () => {
    const error = await attempt({ hosts: cluster.urls, tls: { ca: certs.ca } }, 'tls-no-cert');
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/the TLS handshake with etcd failed \(check connection.tls: ca, cert, key\)/);
  });

  test('without the CA (system roots) the server is not trusted: BackendUnavailableError', async () => {
    const error = await attempt(cluster.urls.join(','), 'tls-untrusted');
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/the TLS handshake with etcd failed \(check connection.tls: ca, cert, key\)/);
  });
});
