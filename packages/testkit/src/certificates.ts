import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * PEM files of a throwaway CA with a server certificate (for 127.0.0.1 and localhost) and a
 * client certificate it signed, plus a second CA that signed nothing here — what a
 * "wrong CA" case verifies the server against.
 */
export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  /** A CA unrelated to the certificates: verification against it fails. */
  readonly otherCaFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The contents of `caFile`, `clientCertFile` and `clientKeyFile`, for clients that take PEM text. */
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Removes the directory. */
  remove(): void;
}

export interface TestCertificateOptions {
  /** Common name of the client certificate (PostgreSQL's `clientcert=verify-full` matches it to the user). Default `baton-client`. */
  clientName?: string;
}

/**
 * Makes the certificates with the system `openssl` (P-256 keys, valid one day) in a new
 * temporary directory. Synchronous: a few milliseconds of key generation, before any server starts.
 */
export function makeCertificates(options: TestCertificateOptions = {}): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const [name, subject] of [['ca', 'baton test CA'], ['other-ca', 'baton unrelated CA']] as const) {
    openssl('req', '-x509', ...key, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${subject}`);
  }
  const sign = (name: string, commonName: string, extensions: string): void => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  sign('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  sign('client', options.clientName ?? 'baton-client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: file('ca.crt'),
    otherCaFile: file('other-ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    ca: readFileSync(file('ca.crt'), 'utf8'),
    clientCert: readFileSync(file('client.crt'), 'utf8'),
    clientKey: readFileSync(file('client.key'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
