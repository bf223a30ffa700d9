import type { Clock, Logger, TimerHandle } from '@baton/core';
import pg from 'pg';
import { DEFAULTS } from './options.ts';

/** How a {@link HolderWait} connects and whom it tells. */
export interface HolderWaitSettings {
  clientConfig: pg.ClientConfig;
  applicationName: string;
  connectTimeoutMs: number;
  logger: Logger;
  clock: Clock;
  /** The advisory lock of `name` was free for a moment: its holder released it or is gone. */
  onFree(name: string): void;
}

/**
 * Waits, on a connection of its own, for ONE lock held by another process to lose its holder,
 * with no statement sent while it waits: `pg_advisory_lock_shared` blocks on the server until
 * the holder's session gives the advisory lock back (release) or ends (crash, kill, server
 * timeout), then the same statement gives the shared lock back at once. So a follower learns
 * that a crashed leader is gone within a round trip, where otherwise only the silence of its
 * renewals, or the lease, would tell.
 *
 * The shared lock is held only for the instant between the grant and the unlock in the same
 * statement; an exclusive `pg_try_advisory_lock` arriving in that instant fails, which its
 * caller sees as a lost race and retries. A waiter never takes anything over: it only asks the
 * feed to check the holder.
 */
export class HolderWait {
  private readonly settings: HolderWaitSettings;
  /** The connection, open or opening; one at a time. */
  private client: Promise<pg.Client> | undefined;
  private wanted: { name: string; key: bigint } | undefined;
  /** The wait started (connecting, or its statement in flight). */
  private waitingOn: { name: string; key: bigint } | undefined;
  /** Whether the wait's statement was sent: only then must retargeting end the connection. */
  private sent = false;
  private retryTimer: TimerHandle | undefined;
  private retryDelayMs: number = DEFAULTS.minReconnectDelayMs;
  /** Counts waits; a wait whose number is no longer current was abandoned. */
  private run = 0;

  constructor(settings: HolderWaitSettings) {
    this.settings = settings;
  }

  /**
   * Waits on `name`'s advisory lock next (undefined: on nothing). A wait in flight on another
   * lock is not taken back — a blocked statement cannot be withdrawn without ending its
   * connection, and the server would notice that only once the lock frees — it runs to its
   * end, and the next wait is on `name`.
   */
  target(name: string | undefined, key: bigint | undefined): void {
    this.wanted = name === undefined || key === undefined ? undefined : { name, key };
    this.wait();
  }

  /** True while a wait on `name`'s advisory lock is in flight. */
  isWaitingOn(name: string): boolean {
    return this.sent && this.waitingOn?.name === name;
  }

  /** Stops waiting and closes the connection (a later `target` opens a new one). */
  async stop(): Promise<void> {
    this.wanted = undefined;
    if (this.retryTimer !== undefined) this.settings.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    this.waitingOn = undefined;
    this.sent = false;
    this.run++;
    await client?.then((c) => c.end()).catch(() => {});
  }

  private wait(): void {
    const wanted = this.wanted;
    if (wanted === undefined || this.waitingOn !== undefined || this.retryTimer !== undefined) return;
    this.waitingOn = wanted;
    void this.waitOnce(wanted, ++this.run);
  }

  /** One wait; `run` tells whether it is still the current one when it settles. */
  private async waitOnce(wanted: { name: string; key: bigint }, run: number): Promise<void> {
    try {
      this.client ??= this.connect();
      const client = await this.client;
      if (run !== this.run) return;
      this.sent = true;
      await client.query({
        text: `SELECT pg_catalog.pg_advisory_unlock_shared($1::bigint) AS unlocked
  FROM (SELECT pg_catalog.pg_advisory_lock_shared($1::bigint) AS locked OFFSET 0) granted`,
        values: [wanted.key.toString()],
      });
    } catch (error) {
      if (run !== this.run) return; // stopped meanwhile: its connection was ended on purpose
      this.sent = false;
      this.waitingOn = undefined;
      const client = this.client;
      this.client = undefined;
      void client?.then((c) => c.end()).catch(() => {});
      if (this.wanted === undefined) return;
      this.settings.logger.debug({ error: (error as Error).message }, 'baton postgres holder wait failed; retrying');
      this.retryLater();
      return;
    }
    if (run !== this.run) return;
    this.sent = false;
    this.retryDelayMs = DEFAULTS.minReconnectDelayMs;
    this.waitingOn = undefined;
    // Consumed: waiting again on a lock that is free would return at once; wait for a new target.
    if (this.wanted === wanted) this.wanted = undefined;
    this.settings.onFree(wanted.name);
  }

  private retryLater(): void {
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, DEFAULTS.maxReconnectDelayMs);
    this.retryTimer = this.settings.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.wait();
    }, delay);
  }

  private async connect(): Promise<pg.Client> {
    const { clientConfig, applicationName, connectTimeoutMs } = this.settings;
    const client = new pg.Client({
      ...clientConfig,
      application_name: `${applicationName}:wait`,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
    });
    // A failure surfaces as the wait's rejection (or the next one's), which reconnects.
    client.on('error', (error) => this.settings.logger.debug({ error: error.message }, 'baton postgres holder-wait connection failed'));
    try {
      await client.connect();
      // The wait may last as long as a leader leads: no server-side timeout may end it.
      await client.query(`SELECT pg_catalog.set_config('statement_timeout', '0', false), pg_catalog.set_config('lock_timeout', '0', false)`);
      // PostgreSQL ≥ 14: a wait whose connection this process ended (stop) ends within a second
      // instead of when the lock frees. Older servers lack the setting; nothing else depends on it.
      await client.query(`SELECT pg_catalog.set_config('client_connection_check_interval', '1000', false)`).catch(() => {});
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return client;
  }
}
