import { BackendUnavailableError, LockLostError } from '@baton/core';
import type { Clock, Logger, TimerHandle } from '@baton/core';
import type { Etcd3, ILeaseKeepAliveResponse } from 'etcd3';

/** While a keep-alive is unanswered, another goes out this often. */
const URGENT_KEEPALIVE_MS = 250;

export interface SessionLeaseOptions {
  client: Etcd3;
  /** TTL asked for; etcd may grant more (never less than its minimum). */
  ttlSeconds: number;
  clock: Clock;
  logger: Logger;
  operationTimeoutMs: number;
}

interface Granted {
  readonly id: string;
  /** The TTL etcd granted, in ms. */
  readonly ttlMs: number;
  /** Monotonic time at which the last answered request (grant or keep-alive) was SENT. */
  answeredSentAt: number;
  keepAliveTimer: TimerHandle | undefined;
  lossTimer: TimerHandle | undefined;
}

/**
 * The etcd lease a factory's holders attach their records to, kept alive from this process.
 *
 * When is it lost? etcd deletes the lease (and every record attached to it) no sooner than
 * the TTL after the last keep-alive it RECEIVED, which was sent no earlier than the last
 * keep-alive this process saw ANSWERED. So this process declares the lease lost when
 * `2/3 × TTL` have passed on its monotonic clock since it sent that answered request — a
 * third of the TTL before etcd can delete anything — and tells every listener at once
 * (`onSessionLost`: the elector aborts the term). Keep-alives go out every `TTL / 3`, and
 * sooner after a failed one, so one lost keep-alive does not end a healthy session.
 *
 * A loss is also declared when etcd answers that the lease is gone (TTL 0, or a write
 * naming it fails with "lease not found"). The next holder write grants a new lease.
 */
export class SessionLease {
  private readonly options: SessionLeaseOptions;
  private current: Granted | undefined;
  private granting: Promise<Granted> | undefined;
  private readonly listeners = new Set<(reason: Error) => void>();
  private revoking: Promise<void> | undefined;
  private closed = false;

  constructor(options: SessionLeaseOptions) {
    this.options = options;
  }

  /** The current lease's ID, if one is granted (for tests and diagnostics). */
  get leaseId(): string | undefined {
    return this.current?.id;
  }

  /** The lease to attach a holder's write to; grants one first when there is none. */
  async id(): Promise<string> {
    if (this.closed) throw new BackendUnavailableError('the etcd session was closed');
    if (this.current) return this.current.id;
    this.granting ??= this.grant().finally(() => {
      this.granting = undefined;
    });
    return (await this.granting).id;
  }

  /**
   * The lease to attach a holder's write to right now, if one is granted; otherwise starts
   * granting one (for the next write) and returns `undefined`: a write never waits for a grant.
   */
  currentId(): string | undefined {
    if (!this.current) this.prepare();
    return this.current?.id;
  }

  /**
   * Starts granting a lease now, if there is none, so a lock's first acquisition does not
   * wait for the grant. Failures are only logged: the acquisition will ask again.
   */
  prepare(): void {
    if (this.closed || this.current || this.granting) return;
    this.id().catch((error: unknown) => this.options.logger.debug({ error: String(error) }, 'could not grant the etcd session lease yet'));
  }

  /** Runs `listener` when the lease is lost. @returns a function that removes it. */
  onLost(listener: (reason: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Declares lease `id` lost (a write naming it failed with "lease not found", or a check
   * said so). Ignored when `id` is not the current lease any more.
   */
  lost(id: string, reason: Error): void {
    const granted = this.current;
    if (!granted || granted.id !== id) return;
    this.current = undefined;
    this.stopTimers(granted);
    this.options.logger.warn({ lease: id, reason: reason.message }, 'etcd session lease lost');
    // Listeners first: the holders' terms end before anything is sent that could free their records.
    for (const listener of [...this.listeners]) {
      try {
        listener(reason);
      } catch (error) {
        this.options.logger.warn({ error: String(error) }, 'an onSessionLost listener threw');
      }
    }
    // The lease may still be alive in etcd (we only stopped hearing back): revoke it, so the
    // records attached to it are deleted now rather than at its TTL. Best effort.
    this.revoking = this.revoke(id);
  }

  /** Stops the keep-alives, tells listeners, and revokes the lease (its records are deleted). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.granting?.catch(() => undefined);
    const granted = this.current;
    if (granted) this.lost(granted.id, new LockLostError('the etcd lock factory was closed'));
    await this.revoking;
  }

  private async grant(): Promise<Granted> {
    const { client, ttlSeconds, clock, operationTimeoutMs } = this.options;
    const sentAt = clock.now();
    const reply = await client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 }, { deadline: new Date(Date.now() + operationTimeoutMs) });
    if (reply.error) throw new BackendUnavailableError(`etcd refused to grant a session lease: ${reply.error}`);
    const granted: Granted = { id: reply.ID, ttlMs: Number(reply.TTL) * 1000, answeredSentAt: sentAt, keepAliveTimer: undefined, lossTimer: undefined };
    if (this.closed) {
      await this.revoke(granted.id);
      throw new BackendUnavailableError('the etcd session was closed');
    }
    this.current = granted;
    this.armLossTimer(granted);
    this.scheduleKeepAlive(granted, granted.ttlMs / 3);
    return granted;
  }

  private scheduleKeepAlive(granted: Granted, delayMs: number): void {
    const { clock } = this.options;
    if (granted.keepAliveTimer) clock.clearTimeout(granted.keepAliveTimer);
    granted.keepAliveTimer = clock.setTimeout(() => {
      granted.keepAliveTimer = undefined;
      if (this.current !== granted) return;
      // Sent without waiting for the previous one: a keep-alive stuck in an etcd leader
      // election must not hold back the next. If this one is not answered soon, another
      // follows; the answer of any of them reschedules the normal cadence.
      this.scheduleKeepAlive(granted, URGENT_KEEPALIVE_MS);
      void this.keepAlive(granted);
    }, delayMs);
  }

  private async keepAlive(granted: Granted): Promise<void> {
    const { clock, logger } = this.options;
    const sentAt = clock.now();
    try {
      // Bounded by a third of the TTL: an answer later than that is worth nothing more.
      const reply = await this.keepAliveOnce(granted.id, Math.min(this.options.operationTimeoutMs, granted.ttlMs / 3));
      if (this.current !== granted) return;
      if (reply.TTL === '0' || Number(reply.TTL) <= 0) {
        this.lost(granted.id, new LockLostError(`etcd session lease ${granted.id} expired or was revoked`));
        return;
      }
      if (sentAt > granted.answeredSentAt) {
        granted.answeredSentAt = sentAt;
        this.armLossTimer(granted);
        this.scheduleKeepAlive(granted, Math.max(0, sentAt + granted.ttlMs / 3 - clock.now()));
      }
    } catch (error) {
      if (this.current !== granted) return;
      logger.debug({ lease: granted.id, error: String(error) }, 'etcd session keep-alive failed; the next one is on its way');
    }
  }

  /** One keep-alive on a short-lived stream (what etcd3's own `keepaliveOnce` does). */
  private async keepAliveOnce(id: string, timeoutMs: number): Promise<ILeaseKeepAliveResponse> {
    const stream = await this.options.client.leaseClient.leaseKeepAlive({ deadline: new Date(Date.now() + timeoutMs) });
    try {
      return await new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.on('end', () => reject(new BackendUnavailableError('the keep-alive stream ended without an answer')));
        stream.write({ ID: id });
      });
    } finally {
      stream.end();
    }
  }

  private armLossTimer(granted: Granted): void {
    const { clock } = this.options;
    if (granted.lossTimer) clock.clearTimeout(granted.lossTimer);
    const lossAfterMs = (granted.ttlMs * 2) / 3;
    const at = granted.answeredSentAt + lossAfterMs;
    granted.lossTimer = clock.setTimeout(() => {
      granted.lossTimer = undefined;
      this.lost(granted.id, new LockLostError(`no keep-alive of etcd session lease ${granted.id} was answered for ${Math.round(lossAfterMs)} ms`));
    }, at - clock.now());
  }

  private stopTimers(granted: Granted): void {
    const { clock } = this.options;
    if (granted.keepAliveTimer) clock.clearTimeout(granted.keepAliveTimer);
    if (granted.lossTimer) clock.clearTimeout(granted.lossTimer);
    granted.keepAliveTimer = undefined;
    granted.lossTimer = undefined;
  }

  private revoke(id: string): Promise<void> {
    const { client, operationTimeoutMs, logger } = this.options;
    return client.leaseClient.leaseRevoke({ ID: id }, { deadline: new Date(Date.now() + operationTimeoutMs) }).catch((error: unknown) => {
      logger.debug({ lease: id, error: String(error) }, 'could not revoke the etcd session lease');
    }).then(() => undefined);
  }
}
