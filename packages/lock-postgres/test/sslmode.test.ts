/**
 * sslmode with libpq's meaning (issue 17): each mode spelled out as pg's `ssl`, the TLS
 * parameters of a connection string read by baton (a missing file is a ConfigError naming it),
 * and no pg SECURITY WARNING on stderr for `sslmode=require`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';
import { ConfigError } from '@baton/core';
import { connectionStringTls, postgresSsl } from '../src/tls.ts';

const ca = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';

test("each sslmode as libpq means it: what is encrypted, what is checked", () => {
  expect(postgresSsl({ sslmode: 'disable', ca })).toBe(false);
  expect(postgresSsl({})).toBe(false);
  expect(postgresSsl({ sslmode: 'prefer' })).toEqual({ rejectUnauthorized: false });
  expect(postgresSsl({ sslmode: 'require' })).toEqual({ rejectUnauthorized: false });
  // require with a root certificate checks the chain, as libpq does.
  const requireWithCa = postgresSsl({ sslmode: 'require', ca }) as { rejectUnauthorized: boolean; checkServerIdentity?: () => unknown };
  expect(requireWithCa.rejectUnauthorized).toBe(true);
  expect(requireWithCa.checkServerIdentity?.()).toBeUndefined();
  const verifyCa = postgresSsl({ sslmode: 'verify-ca', ca }) as { rejectUnauthorized: boolean; checkServerIdentity?: () => unknown; ca: string };
  expect([verifyCa.rejectUnauthorized, verifyCa.ca, typeof verifyCa.checkServerIdentity]).toEqual([true, ca, 'function']);
  expect(postgresSsl({ sslmode: 'verify-full', ca, cert: 'c', key: 'k' })).toEqual({ ca, cert: 'c', key: 'k', rejectUnauthorized: true });
  // A CA without a mode: the safe reading.
  expect(postgresSsl({ ca })).toEqual({ ca, rejectUnauthorized: true });
  expect(() => postgresSsl({ sslmode: 'allow' as never })).toThrow(ConfigError);
  expect(() => postgresSsl({ sslmode: 'verify-full', cert: 'c' })).toThrow(/sslkey: give the client certificate and its key together/);
});

test('a connection string keeps everything but its TLS parameters, which become ssl', () => {
  const { connectionString, ssl } = connectionStringTls('postgres://u:p@db.example:5432/app?sslmode=require&application_name=x&uselibpqcompat=true');
  const url = new URL(connectionString);
  expect([url.username, url.searchParams.get('application_name'), url.searchParams.has('sslmode'), url.searchParams.has('uselibpqcompat')]).toEqual(['u', 'x', false, false]);
  expect(ssl).toEqual({ rejectUnauthorized: false });
  for (const kept of ['postgres://db.example/app', 'host=db.example sslmode=require']) expect(connectionStringTls(kept)).toEqual({ connectionString: kept });
  expect(() => connectionStringTls('postgres://db.example/app?sslmode=verify-full&sslrootcert=/no/such/ca.crt')).toThrow(/sslrootcert: cannot read \/no\/such\/ca\.crt: no such file/);
});

test('a factory built from sslmode=require prints no security warning when it connects', () => {
  const fixture = fileURLToPath(new URL('./fixtures/sslmode-require.ts', import.meta.url));
  const child = spawnSync(process.execPath, [fixture], { encoding: 'utf8', timeout: 20_000 });
  expect(child.status).toBe(0);
  expect(child.stderr).not.toMatch(/SECURITY WARNING/);
});
