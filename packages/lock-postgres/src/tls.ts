import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { BackendSetupError, BackendUnavailableError, ConfigError, tlsFailureKind, type BatonError, type TlsFailureKind } from '@baton/core';

/** libpq's `sslmode` values baton supports (`allow` — plain text first — has no node-postgres equivalent). */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** TLS of a PostgreSQL connection: libpq's sslmode, and PEM text of the CA, a client certificate and its key. */
export interface PostgresTlsOptions {
  /** Default: `verify-full` when a CA or client certificate is given, else no TLS. */
  sslmode?: SslMode;
  /** libpq's `sslrootcert`. Default: the system CAs. */
  ca?: string | Buffer;
  /** libpq's `sslcert`, for `clientcert=verify-ca|verify-full` in pg_hba.conf. Give `key` with it. */
  cert?: string | Buffer;
  /** libpq's `sslkey`. */
  key?: string | Buffer;
}

/**
 * The `ssl` setting of node-postgres for libpq's meaning of `sslmode`, spelled out so that pg
 * prints no warning (pg 8 reads prefer/require/verify-ca as verify-full and warns that this will
 * change):
 * - `disable`: plain text;
 * - `prefer`, `require`: TLS, the certificate not checked (anyone on the path can pretend to be
 *   the server); `require` with a CA checks the chain, as libpq does when it has a root
 *   certificate. Unlike libpq, `prefer` does not fall back to plain text when the server has
 *   no TLS — that fails with a permanent error saying so;
 * - `verify-ca`: the chain must lead to the CA; the host name is not checked;
 * - `verify-full`: the chain and the host name.
 * @throws ConfigError for an unknown mode, or a certificate without its key.
 */
export function postgresSsl(options: PostgresTlsOptions): false | ConnectionOptions {
  const { ca, cert, key } = options;
  const mode = options.sslmode ?? (ca ?? cert ?? key ? 'verify-full' : 'disable');
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError('sslmode', `must be one of ${SSL_MODES.join(', ')}; got "${String(mode)}"`);
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(cert === undefined ? 'sslcert' : 'sslkey', 'give the client certificate and its key together');
  }
  if (mode === 'disable') return false;
  const files: ConnectionOptions = { ...(ca !== undefined && { ca }), ...(cert !== undefined && { cert }), ...(key !== undefined && { key }) };
  const effective = mode === 'require' && ca !== undefined ? 'verify-ca' : mode;
  switch (effective) {
    case 'prefer':
    case 'require':
      return { ...files, rejectUnauthorized: false };
    case 'verify-ca':
      return { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    default:
      return { ...files, rejectUnauthorized: true };
  }
}

/** The TLS parameters of a connection string that baton reads itself (libpq's names). */
const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'] as const;

/**
 * A `postgres://` connection string with its TLS parameters (`sslmode`, `sslrootcert`,
 * `sslcert`, `sslkey`) taken out and turned into pg's `ssl` by {@link postgresSsl}: libpq's
 * meaning, files read here so that a missing one is a ConfigError naming it. Strings without
 * them, and strings that are not URLs (`host=… sslmode=…`), are left to pg.
 */
export function connectionStringTls(connectionString: string): { connectionString: string; ssl?: false | ConnectionOptions } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString };
  }
  const params = url.searchParams;
  if (!TLS_PARAMETERS.some((name) => params.has(name) && name !== 'uselibpqcompat')) return { connectionString };
  const mode = params.get('sslmode') ?? undefined;
  const tls: PostgresTlsOptions = {
    ...(mode !== undefined && { sslmode: mode as SslMode }),
    ...readParameterFile(params, 'sslrootcert', 'ca'),
    ...readParameterFile(params, 'sslcert', 'cert'),
    ...readParameterFile(params, 'sslkey', 'key'),
  };
  for (const name of TLS_PARAMETERS) params.delete(name);
  return { connectionString: url.toString(), ssl: postgresSsl(tls) };
}

function readParameterFile(params: URLSearchParams, name: string, as: 'ca' | 'cert' | 'key'): Partial<PostgresTlsOptions> {
  const path = params.get(name);
  if (path === null) return {};
  try {
    return { [as]: readFileSync(path) };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(name, `cannot read ${path}: ${reason}`, { cause: error });
  }
}

/** Each kind of TLS failure in the words of a PostgreSQL configuration. */
const SAID: Readonly<Record<TlsFailureKind, (error: Error) => string>> = {
  name: (error) => `the server's certificate does not name the host: ${error.message} (connect by a name it has, or use sslmode=verify-ca)`,
  untrusted: (error) => `the server's certificate failed verification: ${error.message} (${(error as NodeJS.ErrnoException).code}; is the CA (tls.ca, sslrootcert) the one that signed it?)`,
  plaintext: () => 'the server answered the TLS handshake with something that is not TLS',
  'client-certificate-required': () => 'the server requires a client certificate (tls.cert and tls.key, or sslcert and sslkey)',
  'client-certificate-refused': (error) => `the server refused our client certificate: ${error.message}`,
};

/**
 * A TLS failure of a PostgreSQL connection as a permanent typed error, one line naming what to
 * change; undefined when `error` is not one:
 * - the certificate does not verify, names another host, the server refuses ours;
 * - TLS asked of a server without TLS (pg: "The server does not support SSL connections");
 * - plain text where pg_hba.conf only has `hostssl` lines (FATAL "… no encryption").
 */
export function postgresTlsFailure(error: unknown, lock: string): BatonError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const kind = tlsFailureKind(error);
  if (kind !== undefined) return new BackendUnavailableError(`${lock}: TLS: ${SAID[kind](error as Error)}`, { cause: error, permanent: true });
  if (/server does not support SSL connections/.test(message)) {
    return new BackendSetupError(`${lock}: the PostgreSQL server does not offer TLS (${message}), but sslmode asks for it: turn ssl on in the server, or use sslmode=disable`, { cause: error });
  }
  if (/no pg_hba\.conf entry for .*no encryption/.test(message)) {
    return new BackendSetupError(`${lock}: the server accepts this connection only over TLS (${message}): set sslmode (require or stronger)`, { cause: error });
  }
  return undefined;
}
