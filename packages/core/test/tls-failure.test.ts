import { expect, test } from '@jest/globals';
import { tlsFailureKind } from '../src/index.ts';

const failure = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

test("Node's TLS errors are read as the kind of failure each backend then words in its own terms", () => {
  expect(tlsFailureKind(failure('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('untrusted');
  expect(tlsFailureKind(failure('CERT_HAS_EXPIRED'))).toBe('untrusted');
  expect(tlsFailureKind(failure('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('name');
  expect(tlsFailureKind(failure('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('plaintext');
  expect(tlsFailureKind(failure('', 'error:0A00010B:SSL routines::wrong version number'))).toBe('plaintext');
  expect(tlsFailureKind(failure('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))).toBe('client-certificate-required');
  expect(tlsFailureKind(failure('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'))).toBe('client-certificate-refused');
  // Not TLS failures: the connection itself, and things that are not errors.
  for (const other of [failure('ECONNREFUSED'), failure('ETIMEDOUT'), 'text', null, undefined]) expect(tlsFailureKind(other)).toBeUndefined();
});
