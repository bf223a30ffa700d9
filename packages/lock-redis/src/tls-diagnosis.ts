import { connect as plainConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { BackendUnavailableError, tlsFailureKind, type TlsFailureKind } from '@baton/core';

/** How long a probe that tells TLS from plain text may take. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * A TLS failure of a Redis connection said in one line, as a permanent typed error (the
 * certificate does not verify, the server refuses ours, it speaks plain text) with the
 * original as `cause`; undefined when `error` is not a TLS failure.
 */
export function tlsFailure(error: Error, where: string): BackendUnavailableError | undefined {
  const kind = tlsFailureKind(error);
  if (kind === undefined) return undefined;
  return new BackendUnavailableError(`${where}: TLS: ${SAID[kind](error)}`, { cause: error, permanent: true });
}

const CLIENT_CERTIFICATE_REQUIRED = 'the server requires a client certificate (set tls.cert and tls.key)';

/** Each kind of TLS failure in the words of a Redis configuration. */
const SAID: Readonly<Record<TlsFailureKind, (error: Error) => string>> = {
  name: (error) => `the server's certificate does not name the host: ${error.message} (set tls.serverName to a name it has)`,
  untrusted: (error) => `the server's certificate failed verification: ${error.message} (${(error as NodeJS.ErrnoException).code}; is tls.ca the CA that signed it?)`,
  plaintext: () => 'the server answered the TLS handshake with something that is not TLS: it is probably a plain-text Redis (use redis://)',
  'client-certificate-required': () => CLIENT_CERTIFICATE_REQUIRED,
  'client-certificate-refused': (error) => `the server refused our client certificate: ${error.message}`,
};

/** The server answered a plain-text PING on the port a TLS handshake got no answer from. */
export function plainTextRedis(where: string): BackendUnavailableError {
  return new BackendUnavailableError(`${where}: TLS: the server does not answer the TLS handshake but answers plain text: it is a plain-text Redis (use redis://)`, {
    permanent: true,
  });
}

/** A plain-text connection was closed before any answer: whether the port completes a TLS handshake says why. */
export async function closedUnanswered(host: string, port: number, where: string): Promise<BackendUnavailableError | undefined> {
  if (!(await speaksTls(host, port))) return undefined;
  return new BackendUnavailableError(`${where}: the server closed the plain-text connection without an answer and speaks TLS on this port (use rediss://, or a tls block)`, {
    permanent: true,
  });
}

/** Whether the port answers a plain-text PING in RESP: then it is a plain-text Redis (a TLS port closes instead). */
export function answersPlainPing(host: string, port: number): Promise<boolean> {
  const socket = plainConnect({ host, port }, () => socket.write('PING\r\n'));
  return probe(socket, (done) => {
    // `+PONG`, or an error reply (`-NOAUTH …`): RESP either way.
    socket.once('data', (chunk) => done(chunk[0] === 0x2b || chunk[0] === 0x2d));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function speaksTls(host: string, port: number): Promise<boolean> {
  // Only the protocol is in question here, not who the server is: nothing is sent over this connection.
  const socket = tlsConnect({ host, port, rejectUnauthorized: false });
  return probe(socket, (done) => {
    socket.once('secureConnect', () => done(true));
    // A TLS alert (a client certificate required, …) is an answer in TLS too.
    socket.once('error', (error: NodeJS.ErrnoException) => done(/^ERR_SSL_.*ALERT/.test(error.code ?? '')));
  });
}

/** What `listen` makes of the socket's events, or false after {@link PROBE_TIMEOUT_MS}; the socket is destroyed either way. */
function probe(socket: Socket, listen: (done: (answer: boolean) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    listen(done);
  });
}

/**
 * A TLS connection without a client certificate was closed after the handshake before any
 * answer. TLS 1.3 servers check the certificate after the client's handshake is done, and the
 * alert saying so is often lost to the reset; in TLS 1.2 the refusal is part of the handshake,
 * so a 1.2 handshake without a certificate tells.
 */
export async function clientCertificateRequired(host: string, port: number, tls: ConnectionOptions, where: string): Promise<BackendUnavailableError | undefined> {
  const { ca, servername } = tls;
  const socket = tlsConnect({ host, port, ca, servername, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
  const refused = await probe(socket, (done) => {
    socket.once('secureConnect', () => done(false));
    socket.once('error', (error: NodeJS.ErrnoException) => done(/ALERT_(HANDSHAKE_FAILURE|CERTIFICATE_REQUIRED|BAD_CERTIFICATE)/.test(error.code ?? '')));
  });
  if (!refused) return undefined;
  return new BackendUnavailableError(`${where}: TLS: ${CLIENT_CERTIFICATE_REQUIRED}`, { permanent: true });
}
