import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { BackendUnavailableError } from '@baton/core';
import { AbstractConnector } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { DEFAULTS } from './defaults.ts';
import { answersPlainPing, clientCertificateRequired, closedUnanswered, plainTextRedis, tlsFailure } from './tls-diagnosis.ts';
import { redisOptionsFromUrl } from './url.ts';

/** ioredis' message for a connection closed on purpose (it ignores errors carrying it while disconnecting). */
const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * The connector of single-server connections baton opens: ioredis' own opens the socket and
 * lets whatever the TLS stack says through, so a `rediss://` URL aimed at a plain-text server
 * only ever times out, and a plain URL aimed at a TLS-only one only sees the connection
 * close. This one opens the same sockets (plain, or TLS with the `tls` options) and says why:
 * - TLS: the connection is handed to ioredis once the handshake is done; a handshake that
 *   fails becomes one line (`tls-diagnosis.ts`) — a certificate that does not verify, a
 *   server that speaks plain text (it answers a plain PING while the handshake waits);
 * - plain: a connection the server closes before answering anything is followed by a TLS
 *   probe; when the port speaks TLS, that connection's failures say so from then on.
 */
export class DiagnosingConnector extends AbstractConnector {
  private readonly options: RedisOptions;
  private readonly where: string;
  /** What the last probe after an unanswered close found: the port speaks TLS, the server requires a client certificate. */
  private diagnosis: BackendUnavailableError | undefined;
  private probing = false;
  /** The last TLS attempt found a plain-text Redis: the next ones ask it again at once, not after a wait. */
  private plainText = false;

  constructor(options: unknown) {
    // ioredis passes its resolved options.
    const redisOptions = options as RedisOptions;
    super(redisOptions.disconnectTimeout ?? 2_000);
    this.options = redisOptions;
    this.where = `Redis at ${redisOptions.path ?? `${redisOptions.host ?? 'localhost'}:${redisOptions.port ?? 6379}`}`;
  }

  connect(): Promise<Socket> {
    this.connecting = true;
    return new Promise((resolve, reject) => {
      // As ioredis' own connector: the socket is opened on the next tick, after ioredis has set up its state.
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error(CONNECTION_CLOSED));
          return;
        }
        if (this.options.tls) this.openTls(resolve, reject);
        else resolve(this.openPlain());
      });
    });
  }

  private target(): { path: string } | { host: string; port: number; family?: number } {
    const { host = 'localhost', port = 6379, path, family } = this.options;
    return path ? { path } : { host, port, ...(family !== undefined && { family }) };
  }

  private openTls(resolve: (socket: Socket) => void, reject: (error: Error) => void): void {
    const connectTimeoutMs = this.options.connectTimeout ?? DEFAULTS.connectTimeoutMs;
    const handshakeMs = Math.min(DEFAULTS.tlsHandshakeTimeoutMs, connectTimeoutMs);
    const tls = this.options.tls!;
    const socket = tlsConnect({ ...this.target(), ...tls });
    // Failures after the handshake (a TLS 1.3 server refuses our certificate once it has read it) are said the same way.
    this.watch(socket, (error) => tlsFailure(error, this.where), tls.cert === undefined ? () => this.probe((host, port) => clientCertificateRequired(host, port, tls, this.where)) : undefined);
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(pingTimer);
      socket.destroy();
      reject(error);
    };
    let timer = setTimeout(() => fail(timedOut(connectTimeoutMs)), connectTimeoutMs);
    let pingTimer: NodeJS.Timeout | undefined;
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new Error(`${this.where}: TLS: the server did not answer the TLS handshake within ${handshakeMs} ms`)), handshakeMs);
      const { host = 'localhost', port = 6379, path } = this.options;
      if (path) return;
      pingTimer = setTimeout(() => {
        void answersPlainPing(host, port).then((plain) => {
          this.plainText = plain;
          if (plain) fail(plainTextRedis(this.where));
        });
      }, this.plainText ? 0 : Math.min(DEFAULTS.tlsProbeAfterMs, handshakeMs));
    });
    const closed = (): void => fail(new Error(CONNECTION_CLOSED));
    socket.once('secureConnect', () => {
      if (settled) return;
      settled = true;
      this.plainText = false;
      clearTimeout(timer);
      clearTimeout(pingTimer);
      socket.off('error', fail);
      socket.off('close', closed);
      resolve(socket);
    });
    socket.once('error', fail);
    socket.once('close', closed);
  }

  private openPlain(): Socket {
    const socket = createConnection(this.target());
    // ioredis reads this when the socket is already gone by the time it gets it.
    socket.once('error', (error) => {
      this.firstError = error;
    });
    this.watch(socket, () => undefined, () => this.probe((host, port) => closedUnanswered(host, port, this.where)));
    return socket;
  }

  /**
   * Makes `socket` the connector's stream and sees every event it emits before its listeners
   * do (without adding a `data` listener, which would change how it flows): errors go out as
   * `translate` says them; a close before any reply (after we sent something) runs
   * `unanswered` for the next connection, and says what an earlier run of it found on this one.
   */
  private watch(socket: Socket, translate: (error: Error) => Error | undefined, unanswered: (() => void) | undefined): void {
    this.stream = socket;
    let answered = false;
    let erred = false;
    const emit = socket.emit as AnyEmit;
    const diagnosis = (): Error | undefined => (!answered && socket.bytesWritten > 0 ? this.diagnosis : undefined);
    socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'data') {
        answered = true;
      } else if (event === 'error' && typeof args[0] === 'object' && args[0] !== null) {
        // Not `instanceof Error`: errors made by Node's internals fail that in another realm (a jest VM context).
        erred = true;
        const error = args[0] as Error;
        return emit.call(this, 'error', translate(error) ?? diagnosis() ?? error);
      } else if (event === 'close' && !answered && socket.bytesWritten > 0) {
        const found = diagnosis();
        // ioredis listens for one error per socket; an error it already had stays the one it reports.
        if (found && !erred && this.listenerCount('error') > 0) emit.call(this, 'error', found);
        unanswered?.();
      }
      return emit.call(this, event, ...args);
    } as typeof socket.emit;
  }

  /** Runs a diagnosis probe (one at a time); what it finds is said by the next connection that fails the same way. */
  private probe(run: (host: string, port: number) => Promise<BackendUnavailableError | undefined>): void {
    if (this.options.path || this.probing) return;
    this.probing = true;
    const { host = 'localhost', port = 6379 } = this.options;
    void run(host, port).then((found) => {
      this.diagnosis = found;
      this.probing = false;
    });
  }
}

/** `Socket.emit` without its per-event overloads. */
type AnyEmit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;

function timedOut(ms: number): Error {
  return Object.assign(new Error(`connect ETIMEDOUT (no connection within ${ms} ms)`), { code: 'ETIMEDOUT', syscall: 'connect' });
}


/** A connection as `RedisLockFactoryOptions.connection` takes it. */
type Connection = string | RedisOptions | { cluster: unknown };

/**
 * The connection with {@link DiagnosingConnector} for a single server: a URL becomes options
 * (read as ioredis reads it), options get the connector unless they name one. Sentinel
 * (ioredis' Sentinel connector finds the master) and Cluster are left as they are.
 */
export function withDiagnosingConnector<C extends Connection>(connection: C): C | RedisOptions {
  if (typeof connection === 'string') return { ...redisOptionsFromUrl(connection), Connector: DiagnosingConnector };
  if (typeof connection !== 'object' || connection === null || 'cluster' in connection) return connection;
  const options = connection as RedisOptions;
  if (options.sentinels?.length || options.Connector) return connection;
  return { ...options, Connector: DiagnosingConnector };
}
