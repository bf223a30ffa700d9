/**
 * The TLS rows of the CLI README's failure table, one test each: `baton run` against a
 * TLS-only redis-server and a PostgreSQL whose pg_hba.conf only has `hostssl … clientcert=
 * verify-full` lines (both with certificates this file makes), and against plain-text servers.
 * Every TLS failure is permanent: exit code 4 after `giveUpAfter` (here 1 s) with one line
 * saying what to change. A TLS file that cannot be read is a configuration error: exit code 2.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { makeCertificates, PostgresCluster, RedisServerProcess } from '@baton/testkit';
import type { TestCertificates } from '@baton/testkit';
import { BatonProcess, FAST, uniqueName } from './support/process.ts';

let certs: TestCertificates;
let tlsRedis: RedisServerProcess;
let plainRedis: RedisServerProcess;
let tlsPostgres: PostgresCluster;
const running: BatonProcess[] = [];

beforeAll(async () => {
  certs = makeCertificates({ clientName: 'postgres' });
  tlsRedis = await RedisServerProcess.start({ tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, authClients: true } });
  plainRedis = await RedisServerProcess.start();
  tlsPostgres = await PostgresCluster.create({
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile },
    settings: { max_connections: '40' },
    hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 trust clientcert=verify-full'],
  });
}, 120_000);
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  await tlsRedis?.stop();
  await plainRedis?.stop();
  await tlsPostgres?.destroy();
  certs?.remove();
});

/** `baton run` with `flags`, giving up on permanent errors after 1 s. */
function run(flags: readonly string[]): BatonProcess {
  const p = new BatonProcess(['run', '--id', uniqueName('tls-fail'), '--no-http', ...FAST, '--give-up-after', '1s', ...flags, '--', 'true']);
  running.push(p);
  return p;
}

const lastLine = (p: BatonProcess): string[] => p.stderr.filter((line) => line.startsWith('baton: '));

const client = (): string[] => ['--tls-cert', certs.clientCertFile, '--tls-key', certs.clientKeyFile];
const tlsRedisUrl = (): string => `rediss://127.0.0.1:${tlsRedis.port}`;

describe('baton run: TLS failures are permanent — exit code 4 and one line', () => {
  const rows: Array<[string, () => string[], RegExp]> = [
    ['Redis: the CA did not sign the server certificate', () => ['--backend', 'redis', '--url', tlsRedisUrl(), '--tls-ca', certs.otherCaFile, ...client()], /TLS: the server's certificate failed verification: self-signed certificate in certificate chain/],
    ['Redis: the certificate does not name the server', () => ['--backend', 'redis', '--url', tlsRedisUrl(), '--tls-ca', certs.caFile, '--tls-server-name', 'redis.example.com', ...client()], /TLS: the server's certificate does not name the host: .*redis\.example\.com/],
    ['Redis: a client certificate is required', () => ['--backend', 'redis', '--url', tlsRedisUrl(), '--tls-ca', certs.caFile], /TLS: the server requires a client certificate \(set tls\.cert and tls\.key\)/],
    ['Redis: rediss:// to a plain-text server', () => ['--backend', 'redis', '--url', `rediss://127.0.0.1:${plainRedis.port}`], /plain-text Redis \(use redis:\/\/\)/],
    ['Redis: redis:// to a TLS-only server', () => ['--backend', 'redis', '--url', `redis://127.0.0.1:${tlsRedis.port}`], /speaks TLS on this port \(use rediss:\/\/, or a tls block\)/],
    ['PostgreSQL: the CA did not sign the server certificate', () => ['--backend', 'postgres', '--url', tlsPostgres.url, '--postgres-sslmode', 'verify-full', '--tls-ca', certs.otherCaFile, ...client()], /TLS: the server's certificate failed verification/],
    ['PostgreSQL: a client certificate is required', () => ['--backend', 'postgres', '--url', tlsPostgres.url, '--postgres-sslmode', 'verify-full', '--tls-ca', certs.caFile], /connection requires a valid client certificate/],
    ['PostgreSQL: plain text where only TLS is accepted', () => ['--backend', 'postgres', '--url', tlsPostgres.url], /the server accepts this connection only over TLS .*set sslmode/],
    ['PostgreSQL: sslmode=require to a server without TLS', () => ['--backend', 'postgres', '--url', 'postgres://postgres@127.0.0.1:5432/test?sslmode=require'], /does not offer TLS \(The server does not support SSL connections\), but sslmode asks for it/],
  ];
  it.each(rows)('%s', async (_, flags, line) => {
    const p = run(flags());
    expect(await p.exit(30_000)).toEqual({ code: 4, signal: null });
    expect(lastLine(p)).toEqual([expect.stringMatching(/^baton: gave up after \d+ ms of permanent errors: /)]);
    expect(lastLine(p)[0]).toMatch(line);
  });
});

describe('baton run: a TLS file that cannot be read is a configuration error — exit code 2 at once', () => {
  it('names the flag, the field, the file and what is wrong with it', async () => {
    const p = run(['--backend', 'redis', '--url', tlsRedisUrl(), '--tls-ca', '/no/such/ca.crt']);
    expect(await p.exit(10_000)).toEqual({ code: 2, signal: null });
    expect(p.stderr.join('\n')).toMatch(/flag --tls-ca: redis\.tls\.ca: cannot read \/no\/such\/ca\.crt: no such file/);
  });
});
