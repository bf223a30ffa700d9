/**
 * TLS against a real TLS-only redis-server (certificates from a throwaway CA, client
 * certificates required) and a plain-text one: a verified connection works, and each way TLS
 * can be wrong fails with one line saying which, as a permanent error — within the call
 * timeout, not after it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { isPermanentError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { makeCertificates, RedisServerProcess, waitFor } from '@baton/testkit';
import type { TestCertificates } from '@baton/testkit';
import { readFileSync } from 'node:fs';
import { RedisLock, redisConnectionFromConfig, redisTlsOptions } from '../src/index.ts';
import type { RedisConnectionOptions, RedisTlsConfig } from '../src/index.ts';

let certs: TestCertificates;
let tlsServer: RedisServerProcess;
let plainServer: RedisServerProcess;
const record: LeaderElectionRecord = { holderIdentity: 'a', leaseDurationMs: 10_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };
const prefix = `baton-tls-${process.pid}:`;

beforeAll(async () => {
  certs = makeCertificates();
  tlsServer = await RedisServerProcess.start({
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, authClients: true },
  });
  plainServer = await RedisServerProcess.start();
});

afterAll(async () => {
  await tlsServer.stop();
  await plainServer.stop();
  certs.remove();
});

const pem = (file: string): Buffer => readFileSync(file);
const clientTls = (extra: RedisTlsConfig = {}): RedisTlsConfig => ({ ca: pem(certs.caFile), cert: pem(certs.clientCertFile), key: pem(certs.clientKeyFile), ...extra });

/** Creates and reads a record through `connection`; returns the error, if any, and how long it took. */
async function attempt(connection: RedisConnectionOptions, name: string): Promise<{ error: unknown; ms: number }> {
  const lock = new RedisLock({ connection, name, identity: 'a', keyPrefix: prefix, operationTimeout: '5s' });
  const started = performance.now();
  try {
    const created = await lock.create(record);
    expect((await lock.get())?.version).toBe(created.version);
    return { error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  } finally {
    await lock.close();
  }
}

/** The first attempt through `connection` fails, within the call timeout, with a permanent error saying `pattern`. */
async function failsWith(connection: RedisConnectionOptions, name: string, pattern: RegExp): Promise<void> {
  const { error, ms } = await attempt(connection, name);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(pattern);
  expect(isPermanentError(error)).toBe(true);
  expect(ms).toBeLessThan(5_000);
}

/**
 * Calls through one lock, as an elector retries, until one fails with a permanent error; it
 * must say `pattern`. (A connection closed before any answer is diagnosed by a probe, which
 * the next attempt reports.)
 */
async function retriesInto(connection: RedisConnectionOptions, name: string, pattern: RegExp): Promise<void> {
  const lock = new RedisLock({ connection, name, identity: 'a', keyPrefix: prefix, operationTimeout: '5s' });
  try {
    let last: unknown;
    await waitFor(async () => {
      last = await lock.get().then(() => undefined, (error: unknown) => error);
      expect(last).toBeInstanceOf(Error);
      return isPermanentError(last);
    }, 5_000, 'a permanent error');
    expect((last as Error).message).toMatch(pattern);
  } finally {
    await lock.close();
  }
}

describe('TLS to a TLS-only redis-server', () => {
  test('verified with the CA and a client certificate: the lock works', async () => {
    const connection = { host: '127.0.0.1', port: tlsServer.port, tls: redisTlsOptions(clientTls()) };
    expect((await attempt(connection, 'verified')).error).toBeUndefined();
  });

  test('the same from configuration values: rediss:// plus a tls block, and localhost as the server name', async () => {
    const connection = redisConnectionFromConfig({ url: `rediss://127.0.0.1:${tlsServer.port}`, tls: clientTls({ serverName: 'localhost' }) });
    expect((await attempt(connection, 'from-config')).error).toBeUndefined();
  });

  test('a CA that did not sign the server certificate: a permanent error naming the verification failure', async () => {
    await failsWith({ host: '127.0.0.1', port: tlsServer.port, tls: redisTlsOptions(clientTls({ ca: pem(certs.otherCaFile) })) }, 'wrong-ca', /certificate failed verification: .*(self-signed|unable to verify|issuer)/i);
  });

  test('a server name the certificate does not have: a permanent error saying so', async () => {
    await failsWith({ host: '127.0.0.1', port: tlsServer.port, tls: redisTlsOptions(clientTls({ serverName: 'redis.example.com' })) }, 'wrong-name', /certificate does not name the host: .*redis\.example\.com/);
  });

  test('no client certificate where one is required: a permanent error saying so', async () => {
    await retriesInto({ host: '127.0.0.1', port: tlsServer.port, tls: redisTlsOptions({ ca: pem(certs.caFile) }) }, 'no-client-cert', /the server requires a client certificate \(set tls\.cert and tls\.key\)/);
  });

  test('plain text to the TLS-only server: the failures say it speaks TLS', async () => {
    await retriesInto(`redis://127.0.0.1:${tlsServer.port}`, 'plain-to-tls', /speaks TLS on this port \(use rediss:\/\//);
  });
});

describe('TLS to a plain-text redis-server', () => {
  test('rediss:// says the server is a plain-text Redis, within the call timeout', async () => {
    await failsWith(`rediss://127.0.0.1:${plainServer.port}`, 'tls-to-plain', /plain-text Redis \(use redis:\/\/\)/);
  });
});

test('insecureSkipVerify accepts the unknown CA; a client certificate without its key is a config error', async () => {
  const connection = { host: '127.0.0.1', port: tlsServer.port, tls: redisTlsOptions(clientTls({ ca: pem(certs.otherCaFile), insecureSkipVerify: true })) };
  expect((await attempt(connection, 'skip-verify')).error).toBeUndefined();
  expect(() => redisTlsOptions({ cert: pem(certs.clientCertFile) })).toThrow(/tls\.key: give the client certificate and its key together/);
});
