/** Defaults of the options of `@baton/lock-redis`, in one place (options.ts re-exports them). */
export const DEFAULTS = {
  keyPrefix: 'baton:',
  expiryFactor: 10,
  operationTimeoutMs: 5_000,
  socketTimeoutMs: 5_000,
  watchKeepAliveMs: 30_000,
  connectionName: 'baton',
  /** Reconnect backoff of connections baton opens: 50 ms doubling up to this cap. */
  firstReconnectDelayMs: 50,
  maxReconnectDelayMs: 1_000,
  /** How long opening a connection may take. */
  connectTimeoutMs: 5_000,
  /** How long a TLS handshake may take once the TCP connection is up (at most `connectTimeout`). */
  tlsHandshakeTimeoutMs: 3_000,
  /**
   * A TLS handshake without an answer after this long has the port asked a plain-text PING
   * (a plain-text Redis waits silently for the end of a line that a TLS hello never sends); one
   * that answers it fails the connection at once, and the next attempts ask right away.
   */
  tlsProbeAfterMs: 500,
} as const;
