/**
 * TLS against throwaway PostgreSQL clusters with certificates the test makes: one with
 * `ssl=on` whose pg_hba.conf only has `hostssl … clientcert=verify-full` lines (on 127.0.0.1,
 * and on 127.0.0.2, an address its certificate does not name), one without TLS. A verified
 * connection works; every way TLS can be wrong is one permanent error saying what to change.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { isPermanentError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { makeCertificates, PostgresCluster } from '@baton/testkit';
import type { TestCertificates } from '@baton/testkit';
import { readFileSync } from 'node:fs';
import { PostgresLockFactory, postgresSsl } from '../src/index.ts';
import type { PostgresLockFactoryOptions, PostgresTlsOptions } from '../src/index.ts';

let certs: TestCertificates;
let tlsCluster: PostgresCluster;
let plainCluster: PostgresCluster;
const record: LeaderElectionRecord = { holderIdentity: 'a', leaseDurationMs: 10_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };

beforeAll(async () => {
  // clientcert=verify-full: the client certificate's common name must be the user's.
  certs = makeCertificates({ clientName: 'postgres' });
  tlsCluster = await PostgresCluster.create({
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile },
    settings: { listen_addresses: "'127.0.0.1,127.0.0.2'", max_connections: '40' },
    hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 trust clientcert=verify-full', 'hostssl all all 127.0.0.2/32 trust clientcert=verify-full'],
  });
  plainCluster = await PostgresCluster.create({ settings: { max_connections: '40' } });
}, 120_000);

afterAll(async () => {
  await tlsCluster?.destroy();
  await plainCluster?.destroy();
  certs?.remove();
});

const pem = (file: string): Buffer => readFileSync(file);
const client = (): PostgresTlsOptions => ({ ca: pem(certs.caFile), cert: pem(certs.clientCertFile), key: pem(certs.clientKeyFile) });

/** Creates and reads a record through a factory on `cluster` with `ssl`; returns the error, if any. */
async function attempt(cluster: PostgresCluster, tls: PostgresTlsOptions, host = '127.0.0.1', extra: Partial<PostgresLockFactoryOptions> = {}): Promise<unknown> {
  const factory = new PostgresLockFactory({
    poolConfig: { ...cluster.connection, host, ssl: postgresSsl(tls) },
    connectTimeout: '3s',
    operationTimeout: '3s',
    ...extra,
  });
  const lock = factory.lock(`tls-${process.pid}`, 'a');
  try {
    const written = await lock.create(record).catch(async () => (await lock.get())!);
    expect((await lock.get())?.version).toBe(written.version);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await factory.close();
  }
}

async function failsWith(error: unknown, pattern: RegExp): Promise<void> {
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(pattern);
  expect(isPermanentError(error)).toBe(true);
}

describe('a PostgreSQL with ssl=on and client certificates required', () => {
  test('verify-full with the CA and a client certificate: the lock works', async () => {
    expect(await attempt(tlsCluster, { sslmode: 'verify-full', ...client() })).toBeUndefined();
  });

  test('require checks nothing: an unrelated CA does not matter (libpq)', async () => {
    expect(await attempt(tlsCluster, { sslmode: 'require', cert: pem(certs.clientCertFile), key: pem(certs.clientKeyFile) })).toBeUndefined();
  });

  test('verify-ca checks the chain, not the name: an address the certificate does not name is fine', async () => {
    expect(await attempt(tlsCluster, { sslmode: 'verify-ca', ...client() }, '127.0.0.2')).toBeUndefined();
  });

  test('verify-full to an address the certificate does not name: a permanent error saying so', async () => {
    await failsWith(await attempt(tlsCluster, { sslmode: 'verify-full', ...client() }, '127.0.0.2'), /certificate does not name the host: .*127\.0\.0\.2/);
  });

  test('a CA that did not sign the server certificate: a permanent error naming the verification failure', async () => {
    await failsWith(await attempt(tlsCluster, { ...client(), sslmode: 'verify-full', ca: pem(certs.otherCaFile) }), /certificate failed verification: .*(self-signed|unable to verify|issuer)/i);
  });

  test('no client certificate: a permanent error saying the server requires one', async () => {
    await failsWith(await attempt(tlsCluster, { sslmode: 'verify-full', ca: pem(certs.caFile) }), /requires a valid client certificate/);
  });

  test('plain text to a server that accepts only TLS: a permanent error saying so', async () => {
    await failsWith(await attempt(tlsCluster, { sslmode: 'disable' }), /accepts this connection only over TLS .*set sslmode/);
  });

  test('a connection string with sslmode, sslrootcert, sslcert and sslkey: read with the same meaning', async () => {
    const params = new URLSearchParams({ sslmode: 'verify-full', sslrootcert: certs.caFile, sslcert: certs.clientCertFile, sslkey: certs.clientKeyFile });
    const factory = new PostgresLockFactory({ connectionString: `${tlsCluster.url}?${params}`, connectTimeout: '3s' });
    try {
      await expect(factory.lock(`tls-url-${process.pid}`, 'a').get()).resolves.toBeDefined();
    } finally {
      await factory.close();
    }
  });
});

test('TLS asked of a server without TLS: a permanent error saying it has none', async () => {
  await failsWith(await attempt(plainCluster, { sslmode: 'require' }), /does not offer TLS \(The server does not support SSL connections\), but sslmode asks for it/);
});
