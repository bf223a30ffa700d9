/**
 * TLS through the configuration: a file whose `redis.tls` / `postgres.tls` blocks name PEM
 * files relative to it, the same through `--tls-*` flags and `BATON_TLS_*` variables, against
 * a TLS-only redis-server and a PostgreSQL with `ssl=on` that both require client
 * certificates. An elector built from the configuration leads; a file that cannot be read is
 * one configuration error naming the field, the file and where it was set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Logger } from '@baton/core';
import { makeCertificates, PostgresCluster, RedisServerProcess } from '@baton/testkit';
import type { TestCertificates } from '@baton/testkit';
import { loadConfig, type LoadConfigOptions } from '../src/config/load.ts';
import { createElector, openLock } from '../src/elector.ts';
import { uniqueName, waitFor } from './support/process.ts';

let certs: TestCertificates;
let redis: RedisServerProcess;
let postgres: PostgresCluster;

beforeAll(async () => {
  certs = makeCertificates({ clientName: 'postgres' });
  redis = await RedisServerProcess.start({ tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, authClients: true } });
  postgres = await PostgresCluster.create({
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile },
    settings: { max_connections: '40' },
    hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 trust clientcert=verify-full'],
  });
}, 120_000);

afterAll(async () => {
  await redis?.stop();
  await postgres?.destroy();
  certs?.remove();
});

/** A configuration file in the certificates' directory, so that `ca: ca.crt` resolves next to it. */
function configFile(name: string, yaml: string): string {
  const path = join(certs.dir, name);
  writeFileSync(path, yaml);
  return path;
}

/** Runs an elector from the configuration until it leads; returns the fencing token of its term. */
async function leads(options: LoadConfigOptions, logger?: Logger): Promise<number> {
  const loaded = await loadConfig({ env: {}, ...options });
  let token: number | undefined;
  const { elector, close } = await createElector(loaded, {
    identity: 'tls-test',
    ...(logger && { logger }),
    callbacks: { onStartedLeading: ({ fencingToken }) => void (token = fencingToken) },
  });
  const stop = new AbortController();
  const running = elector.run(stop.signal);
  try {
    await waitFor(() => token !== undefined, 10_000, 'leadership over TLS');
  } finally {
    stop.abort();
    await running;
    await close();
  }
  return token!;
}

const timings = 'leaseDuration: 3s\nrenewDeadline: 2s\nretryPeriod: 500ms\n';

describe('Redis over TLS', () => {
  it('a redis.tls block with files relative to the configuration file: verified, and the elector leads', async () => {
    const file = configFile('redis.yaml', `backend: redis\nleaderElectionID: ${uniqueName('tls')}\n${timings}redis:\n  url: rediss://127.0.0.1:${redis.port}\n  tls:\n    ca: ca.crt\n    cert: client.crt\n    key: client.key\n`);
    expect(await leads({ file })).toBeGreaterThan(0);
  });

  it('the same from flags, with a server name and a redis:// URL turned to TLS by the block', async () => {
    const flags = { backend: 'redis', id: uniqueName('tls'), url: `redis://127.0.0.1:${redis.port}`, 'tls-ca': certs.caFile, 'tls-cert': certs.clientCertFile, 'tls-key': certs.clientKeyFile, 'tls-server-name': 'localhost' };
    expect(await leads({ flags })).toBeGreaterThan(0);
  });

  it('insecureSkipVerify from the environment: accepted against an unrelated CA, and logged as a warning', async () => {
    const warnings: string[] = [];
    const logger = { trace() {}, debug() {}, info() {}, error() {}, fatal() {}, warn: (_: unknown, message?: string) => void warnings.push(String(message)), child: () => logger } as unknown as Logger;
    const env = { BATON_TLS_CA: certs.otherCaFile, BATON_TLS_CERT: certs.clientCertFile, BATON_TLS_KEY: certs.clientKeyFile, BATON_TLS_INSECURE_SKIP_VERIFY: 'true' };
    expect(await leads({ env, flags: { backend: 'redis', id: uniqueName('tls'), url: `rediss://127.0.0.1:${redis.port}` } }, logger)).toBeGreaterThan(0);
    expect(warnings).toContainEqual(expect.stringMatching(/TLS certificate verification is OFF/));
  });

  it('a CA file that does not exist: one configuration error naming the field, the file and where it was set', async () => {
    const file = configFile('redis-missing.yaml', `backend: redis\nleaderElectionID: x\nredis:\n  url: rediss://127.0.0.1:${redis.port}\n  tls:\n    ca: no-such-ca.crt\n`);
    const error = await openLock(await loadConfig({ file, env: {} })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^invalid configuration:\n {2}.*redis-missing\.yaml:\d+:\d+: redis\.tls\.ca: cannot read no-such-ca\.crt \(.*no-such-ca\.crt\): no such file$/);
  });

  it('a file that is not PEM, from a flag', async () => {
    const flags = { backend: 'redis', id: 'x', url: `rediss://127.0.0.1:${redis.port}`, 'tls-ca': configFile('not-pem.txt', 'hello\n') };
    const error = await openLock(await loadConfig({ env: {}, flags })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/flag --tls-ca: redis\.tls\.ca: .*not-pem\.txt is not a PEM file/);
  });
});

describe('PostgreSQL over TLS', () => {
  it('sslmode verify-full with a postgres.tls block: verified, a client certificate given, and the elector leads', async () => {
    const file = configFile('postgres.yaml', `backend: postgres\nleaderElectionID: ${uniqueName('tls')}\n${timings}postgres:\n  url: ${postgres.url}\n  sslmode: verify-full\n  tls: {ca: ca.crt, cert: client.crt, key: client.key}\n`);
    expect(await leads({ file })).toBeGreaterThan(0);
  });

  it('sslmode from the environment, files from flags', async () => {
    const flags = { backend: 'postgres', id: uniqueName('tls'), url: postgres.url, 'tls-ca': certs.caFile, 'tls-cert': certs.clientCertFile, 'tls-key': certs.clientKeyFile };
    expect(await leads({ env: { BATON_POSTGRES_SSLMODE: 'verify-ca' }, flags })).toBeGreaterThan(0);
  });

  it('TLS settings both in the URL and in the configuration: a configuration error', async () => {
    const loaded = await loadConfig({ env: {}, flags: { backend: 'postgres', id: 'x', url: `${postgres.url}?sslmode=require`, 'postgres-sslmode': 'verify-full' } });
    const error = await openLock(loaded).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/postgres\.sslmode: the URL sets sslmode already/);
  });

  it('an sslmode libpq does not have, and TLS flags for a backend without TLS settings, are configuration errors', async () => {
    await expect(loadConfig({ env: {}, flags: { backend: 'postgres', id: 'x', 'postgres-sslmode': 'allow' } })).rejects.toThrow(/postgres\.sslmode: must be one of: disable, prefer, require, verify-ca, verify-full; got "allow"/);
    await expect(loadConfig({ env: {}, flags: { backend: 'lease', id: 'x', 'tls-ca': 'ca.crt' } })).rejects.toThrow(/flag --tls-ca: tls\.ca: the lease backend takes its TLS settings from the kubeconfig/);
  });
});
