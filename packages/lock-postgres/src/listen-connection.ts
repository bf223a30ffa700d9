import type { Clock, Logger, TimerHandle } from '@baton/core';
import pg from 'pg';
import { DEFAULTS } from './options.ts';

/** How a {@link ListenConnection} connects, and whom it tells. */
export interface ListenSettings {
  clientConfig: pg.ClientConfig;
  applicationName: string;
  connectTimeoutMs: number;
  /** An unanswered keep-alive drops the connection after this long. */
  operationTimeoutMs: number;
  logger: Logger;
  clock: Clock;
  channel: string;
  /** `LISTEN` on `channel`. */
  listenStatement: string;
  /** Whether the connection is still wanted (something is watched, the feed is open). */
  wanted(): boolean;
  onNotification(payload: string | undefined): void;
  /** `true` after each successful LISTEN; `false` when the connection failed or was lost. */
  onHealth(healthy: boolean): void;
}

/**
 * The one LISTEN connection of a factory: opened while something is watched, reopened with
 * backoff (on the injected clock) when lost, and asked `SELECT 1` every
 * `listenKeepAlive` so that a connection whose peer vanished without a FIN is noticed.
 */
export class ListenConnection {
  private readonly settings: ListenSettings;
  private client: pg.Client | undefined;
  private connecting = false;
  private reconnectDelayMs: number = DEFAULTS.minReconnectDelayMs;
  private reconnectTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;

  constructor(settings: ListenSettings) {
    this.settings = settings;
  }

  /** Backend process id of the connection, when open. */
  get processId(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  start(): void {
    void this.connect();
  }

  /** Closes the connection and forgets the backoff; `start` opens a new one. */
  async stop(): Promise<void> {
    this.clear(this.reconnectTimer);
    this.clear(this.pingTimer);
    this.reconnectTimer = this.pingTimer = undefined;
    this.reconnectDelayMs = DEFAULTS.minReconnectDelayMs;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private clear(timer: TimerHandle | undefined): void {
    if (timer !== undefined) this.settings.clock.clearTimeout(timer);
  }

  private async connect(): Promise<void> {
    if (this.client !== undefined || this.connecting || !this.settings.wanted()) return;
    this.connecting = true;
    const { clientConfig, applicationName, connectTimeoutMs, logger } = this.settings;
    const client = new pg.Client({
      ...clientConfig,
      application_name: `${applicationName}:listen`,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
    });
    let down = false;
    const onDown = (reason: Error): void => {
      if (down) return;
      down = true;
      if (this.client !== client) return;
      this.client = undefined;
      this.clear(this.pingTimer);
      logger.debug({ error: reason.message }, 'baton postgres LISTEN connection lost');
      this.settings.onHealth(false);
      this.scheduleReconnect();
    };
    client.on('error', onDown);
    client.on('end', () => onDown(new Error('connection ended')));
    client.on('notification', (message) => {
      if (this.client === client && message.channel === this.settings.channel) this.settings.onNotification(message.payload);
    });
    try {
      await client.connect();
      await client.query(this.settings.listenStatement);
    } catch (error) {
      down = true;
      this.connecting = false;
      logger.debug({ error: (error as Error).message }, 'baton postgres LISTEN failed');
      await client.end().catch(() => {});
      this.settings.onHealth(false);
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (down || !this.settings.wanted()) {
      down = true;
      await client.end().catch(() => {});
      if (this.settings.wanted()) this.scheduleReconnect();
      return;
    }
    this.client = client;
    this.reconnectDelayMs = DEFAULTS.minReconnectDelayMs;
    this.schedulePing(client, onDown);
    this.settings.onHealth(true);
  }

  /** Reconnects after 100 ms, doubling up to 2 s while it keeps failing. */
  private scheduleReconnect(): void {
    if (!this.settings.wanted() || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, DEFAULTS.maxReconnectDelayMs);
    this.reconnectTimer = this.settings.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  /**
   * An idle LISTEN connection whose peer vanished (partition) would never notice: ask it
   * something now and then, and drop it when the answer does not come.
   */
  private schedulePing(client: pg.Client, onDown: (reason: Error) => void): void {
    const { clock, operationTimeoutMs } = this.settings;
    this.pingTimer = clock.setTimeout(() => {
      if (this.client !== client) return;
      const deadline = clock.setTimeout(() => {
        onDown(new Error(`LISTEN connection did not answer within ${operationTimeoutMs} ms`));
        client.end().catch(() => {});
      }, operationTimeoutMs);
      client.query('SELECT 1').then(
        () => {
          this.clear(deadline);
          if (this.client === client) this.schedulePing(client, onDown);
        },
        () => this.clear(deadline),
      );
    }, DEFAULTS.listenKeepAliveMs);
  }
}
