import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { ConfigError } from '@baton/core';

/**
 * TLS settings of a Redis connection, as a configuration file gives them (baton's
 * `redis.tls`). Certificates and keys are PEM text: reading files is the caller's business
 * (the runtime reads them relative to the configuration file).
 */
export interface RedisTlsConfig {
  /** CA certificate(s) the server's certificate must chain to. Default: the system's CAs. */
  ca?: string | Buffer;
  /** Client certificate, for a server with `tls-auth-clients yes`. Give `key` with it. */
  cert?: string | Buffer;
  /** Key of the client certificate. */
  key?: string | Buffer;
  /**
   * The name the server's certificate is checked against, and sent as SNI. Default: the host
   * of the URL. For a server reached by an address its certificate does not name (an IP, a
   * tunnel, a load balancer).
   */
  serverName?: string;
  /**
   * Accept any certificate: no chain or name check. Encrypts, but anyone on the path can
   * pretend to be the server. Off by default; turning it on is logged as a warning.
   */
  insecureSkipVerify?: boolean;
}

/**
 * Node `tls.connect` options for {@link RedisTlsConfig}: verification on unless explicitly
 * skipped, and `servername` only for a name (RFC 6066 forbids an IP address in SNI; Node
 * then checks the certificate against the IP itself).
 * @throws ConfigError naming the field (`tls.cert` without `tls.key`, a bad type, …).
 */
export function redisTlsOptions(config: RedisTlsConfig): ConnectionOptions {
  if (typeof config !== 'object' || config === null) throw new ConfigError('tls', 'must be an object: { ca, cert, key, serverName, insecureSkipVerify }');
  const { ca, cert, key, serverName, insecureSkipVerify = false } = config;
  for (const [field, value] of Object.entries({ ca, cert, key })) {
    if (value !== undefined && typeof value !== 'string' && !Buffer.isBuffer(value)) throw new ConfigError(`tls.${field}`, 'must be PEM text');
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(cert === undefined ? 'tls.cert' : 'tls.key', 'give the client certificate and its key together');
  }
  if (serverName !== undefined && (typeof serverName !== 'string' || serverName === '')) throw new ConfigError('tls.serverName', 'must be a host name');
  if (typeof insecureSkipVerify !== 'boolean') throw new ConfigError('tls.insecureSkipVerify', 'must be true or false');
  const options: ConnectionOptions = { rejectUnauthorized: !insecureSkipVerify };
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (serverName !== undefined) {
    if (isIP(serverName) === 0) options.servername = serverName;
    // An IP address to check the certificate against is given as the name to check, without SNI.
    else options.checkServerIdentity = ipIdentityCheck(serverName);
  }
  return options;
}

/** Checks the certificate against `ip` instead of the host connected to. */
function ipIdentityCheck(ip: string): NonNullable<ConnectionOptions['checkServerIdentity']> {
  return (_host, certificate) => checkServerIdentity(ip, certificate);
}
