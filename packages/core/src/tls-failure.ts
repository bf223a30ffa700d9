/**
 * What went wrong in a TLS connection, read from the error Node's TLS stack raised — one
 * reading for every backend, which then says it in its own words (which option to fix).
 * Every kind is permanent: retrying the same settings against the same server cannot help.
 */
export type TlsFailureKind =
  /** The server's certificate does not chain to a trusted CA (or has expired, …). */
  | 'untrusted'
  /** The certificate is valid but not for the name (or address) connected to. */
  | 'name'
  /** What came back is not TLS: the server speaks plain text. */
  | 'plaintext'
  /** The server wants a client certificate and got none. */
  | 'client-certificate-required'
  /** The server refused the client certificate given. */
  | 'client-certificate-refused';

/** Node's codes of a certificate chain that does not verify. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_PURPOSE',
]);

/** The kind of TLS failure `error` is, or undefined when it is not one (a refused connection, a timeout, …). */
export function tlsFailureKind(error: unknown): TlsFailureKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = String((error as { code?: unknown }).code ?? '');
  const message = String((error as { message?: unknown }).message ?? '');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'name';
  if (UNTRUSTED.has(code)) return 'untrusted';
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST/.test(code) || /wrong version number|packet length too long/.test(message)) {
    return 'plaintext';
  }
  if (/CERTIFICATE_REQUIRED/.test(code)) return 'client-certificate-required';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|ACCESS_DENIED|DECRYPT_ERROR)/.test(code)) {
    return 'client-certificate-refused';
  }
  return undefined;
}
