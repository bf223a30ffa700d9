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
  /**
   * How long a TLS handshake may take once the TCP connection is up. Below the call timeout
   * (`operationTimeout`, 5 s), so that the first call already hears why: a server that stays
   * silent is asked a plain-text PING, and one that answers it is a plain-text Redis.
   */
  tlsHandshakeTimeoutMs: 3_000,
} as const;
