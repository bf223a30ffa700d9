import { BackendUnavailableError } from '@baton/core';
import type { Clock, Logger } from '@baton/core';
import pg from 'pg';
import { prepared } from './statements.ts';

/** How a {@link SessionConnection} is opened and watched. */
export interface SessionSettings {
  clientConfig: pg.ClientConfig;
  applicationName: string;
  connectTimeoutMs: number;
  /** Server-side `idle_session_timeout` and `statement_timeout`. */
  sessionTimeoutMs: number;
  /** A statement with no answer for this long drops the connection. */
  replyTimeoutMs: number;
  logger: Logger;
  clock: Clock;
  /** Runs once per connection that was open and is gone (error, end, dropped, closed). */
  onLost(generation: number, reason: Error): void;
}

/** SQLSTATE of an unknown configuration parameter (`idle_session_timeout` before PostgreSQL 14). */
const UNDEFINED_OBJECT = '42704';

/**
 * The dedicated connection on which this process holds its session-level advisory locks, one
 * for all lock names. It is opened on the first acquisition and never pooled. Each opened
 * connection has a generation number: an advisory lock taken on generation N is held exactly
 * as long as generation N is alive, which is how holds are tracked.
 *
 * Server-side, the connection runs with `idle_session_timeout` = `statement_timeout` =
 * `sessionTimeout`: if this process goes silent (partitioned, paused, its host gone), the
 * server ends the session, and with it every advisory lock, `sessionTimeout` after the last
 * statement. Renewals run on this connection, so a live leader keeps it busy.
 */
export class SessionConnection {
  private readonly settings: SessionSettings;
  private client: pg.Client | undefined;
  /** Reports the open connection gone (once). */
  private markGone: ((reason: Error) => void) | undefined;
  private generation = 0;
  /** Statements run one at a time, in order (pg's own queue is deprecated). */
  private tail: Promise<void> = Promise.resolve();
  private opening: Promise<number> | undefined;
  private closed = false;
  /** Statements queued or in flight. */
  private pending = 0;

  constructor(settings: SessionSettings) {
    this.settings = settings;
  }

  /** Generation of the open connection, or 0 when there is none. */
  get liveGeneration(): number {
    return this.client === undefined ? 0 : this.generation;
  }

  /** Statements queued or in flight on this connection. */
  get queued(): number {
    return this.pending;
  }

  /** Whether the connection is open or opening. */
  get inUse(): boolean {
    return this.client !== undefined || this.opening !== undefined;
  }

  /** Backend process id of the open connection (what `pg_terminate_backend` takes). */
  get processId(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  /** Opens the connection when needed. @returns its generation. */
  open(): Promise<number> {
    if (this.closed) return Promise.reject(new BackendUnavailableError('the lock factory is closed'));
    if (this.client !== undefined) return Promise.resolve(this.generation);
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(): Promise<number> {
    const { clientConfig, applicationName, connectTimeoutMs, sessionTimeoutMs, logger } = this.settings;
    const client = new pg.Client({
      ...clientConfig,
      application_name: `${applicationName}:session`,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.max(1_000, Math.floor(sessionTimeoutMs / 2)),
    });
    const generation = ++this.generation;
    let gone = false;
    let established = false;
    const onGone = (reason: Error): void => {
      if (gone) return;
      gone = true;
      if (this.client === client) {
        this.client = undefined;
        this.markGone = undefined;
      }
      if (established) this.settings.onLost(generation, reason);
    };
    client.on('error', (error) => {
      logger.debug({ error: error.message, generation }, 'baton postgres session connection failed');
      onGone(error);
    });
    client.on('end', () => onGone(new BackendUnavailableError('the session connection was closed')));
    try {
      await client.connect();
      const ms = String(sessionTimeoutMs);
      await client.query(
        `SELECT pg_catalog.set_config('statement_timeout', $1, false), pg_catalog.set_config('lock_timeout', $1, false),
          pg_catalog.set_config('idle_in_transaction_session_timeout', $1, false)`,
        [ms],
      );
      try {
        // client_connection_check_interval: a statement blocked in a lock wait whose client
        // went away (an abandoned wait at the server) ends within a second, not when granted.
        await client.query(
          `SELECT pg_catalog.set_config('idle_session_timeout', $1, false), pg_catalog.set_config('client_connection_check_interval', '1000', false)`,
          [ms],
        );
      } catch (error) {
        if ((error as { code?: string }).code !== UNDEFINED_OBJECT) throw error;
        // PostgreSQL < 14: fall back to TCP keepalives, which catch a dead host but not a paused process.
        const s = String(Math.max(1, Math.floor(sessionTimeoutMs / 3000)));
        await client.query(
          `SELECT pg_catalog.set_config('tcp_keepalives_idle', $1, false), pg_catalog.set_config('tcp_keepalives_interval', $1, false),
            pg_catalog.set_config('tcp_keepalives_count', '3', false)`,
          [s],
        );
        logger.warn({}, 'PostgreSQL has no idle_session_timeout (< 14): a paused leader keeps its advisory locks until it resumes');
      }
    } catch (error) {
      gone = true;
      await client.end().catch(() => {});
      throw error;
    }
    if (gone || this.closed) {
      gone = true;
      await client.end().catch(() => {});
      throw new BackendUnavailableError(this.closed ? 'the lock factory is closed' : 'the session connection was lost while opening');
    }
    established = true;
    this.client = client;
    this.markGone = onGone;
    logger.debug({ generation, pid: this.processId }, 'baton postgres session connection opened');
    return generation;
  }

  /**
   * Runs a statement on generation `generation`, after the statements queued before it. Fails
   * when that connection is gone (its advisory locks are gone with it), and drops the
   * connection when a statement, once sent, gets no answer within `replyTimeout`.
   */
  query<R extends pg.QueryResultRow>(generation: number, text: string, values: unknown[]): Promise<R[]> {
    this.pending++;
    const run = this.tail.then(() => this.send<R>(generation, text, values));
    this.tail = run.then(
      () => {
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
    return run;
  }

  private async send<R extends pg.QueryResultRow>(generation: number, text: string, values: unknown[]): Promise<R[]> {
    const client = this.client;
    if (client === undefined || generation !== this.generation) {
      throw new BackendUnavailableError('the session connection that held the advisory lock was lost');
    }
    const { replyTimeoutMs, clock } = this.settings;
    const timer = clock.setTimeout(() => {
      this.settings.logger.warn({ replyTimeoutMs }, 'baton postgres session connection did not answer; dropping it');
      this.drop(client);
    }, replyTimeoutMs);
    try {
      return (await client.query<R>(prepared(text, values))).rows;
    } catch (error) {
      // A FATAL answer (pg_terminate_backend, a server shutting down) ends the backend, and
      // the backend frees its advisory locks, granting them to waiters, before its socket
      // closes: waiting for 'end' would leave us leading for milliseconds after a follower
      // started. With a statement in flight, the FATAL answer is the first word we get (no
      // 'error' event: the answer goes to the statement).
      if (endsSession(error)) {
        const reason = `the session connection was ended by the server: ${(error as Error).message}`;
        this.drop(client, new BackendUnavailableError(reason, { cause: error }));
      }
      throw error;
    } finally {
      clock.clearTimeout(timer);
    }
  }

  /** Closes the connection at once; its advisory locks go with it. */
  private drop(client: pg.Client, why: Error | string = 'the session connection did not answer in time and was dropped'): void {
    if (this.client !== client) return;
    this.markGone?.(typeof why === 'string' ? new BackendUnavailableError(why) : why);
    client.end().catch(() => {});
  }

  /**
   * Ends the open connection at once: a statement blocked on the server (a wait for an
   * advisory lock) cannot be withdrawn any other way. Its advisory locks go with it.
   */
  abandon(why: string): void {
    if (this.client !== undefined) this.drop(this.client, why);
  }

  /** Closes the connection (releasing every advisory lock it holds). */
  async close(): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => {});
    const client = this.client;
    if (client === undefined) return;
    this.markGone?.(new BackendUnavailableError('the lock factory was closed'));
    await client.end().catch(() => {});
  }
}

/** Whether a statement's error ended its backend: PostgreSQL sends FATAL (or PANIC) and then exits. */
function endsSession(error: unknown): boolean {
  const severity = (error as { severity?: unknown } | null)?.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

/** Statements waiting on every open session before an acquisition opens another one (adaptive sessions). */
const ADAPTIVE_QUEUE = 2;

/**
 * The session connection an acquisition of `key` runs on. `fixed` (`sessionConnections` given):
 * a fixed choice per key. Otherwise the first one while it keeps up; when every open one has
 * statements waiting, the next one not yet open, then the least busy.
 */
export function chooseSession(sessions: readonly SessionConnection[], key: bigint, fixed: boolean): SessionConnection {
  if (sessions.length === 1) return sessions[0]!;
  if (fixed) return sessions[Number(BigInt.asUintN(64, key) % BigInt(sessions.length))]!;
  let best: SessionConnection | undefined;
  for (const session of sessions) {
    if (!session.inUse) return best === undefined || best.queued >= ADAPTIVE_QUEUE ? session : best;
    if (best === undefined || session.queued < best.queued) best = session;
    if (best.queued < ADAPTIVE_QUEUE) return best;
  }
  return best!;
}
