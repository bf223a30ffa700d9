import type { Clock, Logger, TimerHandle } from '@baton/core';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';

/** What a watched key reports: a put (with its key-value), a delete (at a revision), or "re-read". */
export type KeyEvent =
  | { readonly kind: 'put'; readonly kv: IKeyValue }
  | { readonly kind: 'delete'; readonly revision: string };

/** One subscriber of a watched key. */
export interface KeySubscriber {
  /** Named in log lines. */
  readonly lock: string;
  onEvent(event: KeyEvent): void;
  onHealth(healthy: boolean): void;
}

interface Subscription {
  readonly subscriber: KeySubscriber;
  healthy: boolean;
  stopped: boolean;
}

interface WatchedKey {
  readonly key: Buffer;
  readonly subscriptions: Set<Subscription>;
  watcher: Watcher | undefined;
  /** The etcd watcher is attached (its create request was answered) and not disconnected. */
  attached: boolean;
  /** Consecutive watcher failures (cancelled by etcd), for the re-creation backoff. */
  failures: number;
  recreateTimer: TimerHandle | undefined;
}

/**
 * Every key a factory's locks watch, on ONE gRPC watch stream: etcd3 multiplexes all the
 * watchers of a client over one stream, and this hub keeps one etcd watcher per key however
 * many locks watch it.
 *
 * Health: a subscriber hears `true` once etcd has attached the key's watcher, `false` when
 * the stream broke (etcd3 reconnects it) or etcd cancelled the watcher, and `true` again
 * when it is attached anew; the elector re-reads after every `true`, so a change missed in
 * between is never lost. A watcher that etcd cancels — it asked for a compacted revision, or
 * the user may not read the key — is created again from the current revision (at once the
 * first time, then backing off up to 5 s).
 */
export class WatchHub {
  private readonly client: Etcd3;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly keys = new Map<string, WatchedKey>();
  /** Cancellations under way: `close()` waits for them, so the client is not closed under them. */
  private readonly detaching = new Set<Promise<void>>();
  private closed = false;

  constructor(client: Etcd3, logger: Logger, clock: Clock) {
    this.client = client;
    this.logger = logger;
    this.clock = clock;
  }

  /** Number of keys with an etcd watcher, for tests and diagnostics. */
  get watchedKeys(): number {
    return this.keys.size;
  }

  /**
   * Watches `key`. A new etcd watcher starts right after `fromRevision` (the revision the
   * subscriber last read), so nothing written since that read is missed; a subscriber that
   * joins a key already watched hears `onHealth(true)` and re-reads.
   * @returns a function that ends this subscription.
   */
  watch(key: Buffer, subscriber: KeySubscriber, fromRevision?: string): () => void {
    if (this.closed) throw new Error(`${subscriber.lock}: watch after close()`);
    const id = key.toString('latin1');
    const subscription: Subscription = { subscriber, healthy: false, stopped: false };
    let entry = this.keys.get(id);
    if (!entry) {
      entry = { key, subscriptions: new Set(), watcher: undefined, attached: false, failures: 0, recreateTimer: undefined };
      this.keys.set(id, entry);
      entry.subscriptions.add(subscription);
      this.attach(entry, fromRevision);
    } else {
      entry.subscriptions.add(subscription);
      if (entry.attached) queueMicrotask(() => this.setHealth(subscription, true));
    }
    return () => this.unwatch(id, subscription);
  }

  /**
   * Cancels every etcd watcher and waits (at most a second) for the cancellations to be
   * answered, so that closing the client next leaves etcd3 nothing to re-establish.
   */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.keys.values()];
    this.keys.clear();
    for (const entry of entries) this.track(this.detach(entry));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
    await Promise.race([Promise.allSettled([...this.detaching]), bound]);
    clearTimeout(timer);
  }

  private track(detach: Promise<void>): void {
    this.detaching.add(detach);
    void detach.finally(() => this.detaching.delete(detach));
  }

  private unwatch(id: string, subscription: Subscription): void {
    subscription.stopped = true;
    const entry = this.keys.get(id);
    if (!entry?.subscriptions.delete(subscription) || entry.subscriptions.size > 0) return;
    this.keys.delete(id);
    this.track(this.detach(entry));
  }

  private attach(entry: WatchedKey, fromRevision?: string): void {
    let builder = this.client.watch().key(entry.key);
    if (fromRevision !== undefined) builder = builder.startRevision(String(BigInt(fromRevision) + 1n));
    const watcher = builder.watcher();
    entry.watcher = watcher;
    const current = (): boolean => entry.watcher === watcher && !this.closed;
    watcher.on('connected', () => {
      if (!current()) return;
      entry.attached = true;
      entry.failures = 0;
      for (const subscription of entry.subscriptions) this.setHealth(subscription, true);
    });
    watcher.on('disconnected', (error: Error) => {
      if (!current()) return;
      this.logger.debug({ key: entry.key.toString(), error: error.message }, 'etcd watch stream broke; reconnecting');
      this.markDown(entry);
    });
    watcher.on('put', (kv: IKeyValue) => {
      if (current()) this.deliver(entry, { kind: 'put', kv });
    });
    watcher.on('delete', (kv: IKeyValue) => {
      if (current()) this.deliver(entry, { kind: 'delete', revision: kv.mod_revision });
    });
    watcher.on('error', (error: Error) => {
      // etcd cancelled this watcher: a compacted start revision, or no permission to read.
      if (!current()) return;
      entry.watcher = undefined;
      entry.failures++;
      this.markDown(entry);
      const delayMs = entry.failures <= 1 ? 0 : Math.min(250 * 2 ** (entry.failures - 2), 5_000);
      this.logger.warn(
        { key: entry.key.toString(), error: error.message, retryInMs: delayMs },
        'etcd cancelled the watch; watching again from the current revision (followers re-read)',
      );
      entry.recreateTimer = this.clock.setTimeout(() => {
        entry.recreateTimer = undefined;
        if (this.keys.get(entry.key.toString('latin1')) === entry && !this.closed) this.attach(entry);
      }, delayMs);
    });
  }

  private async detach(entry: WatchedKey): Promise<void> {
    if (entry.recreateTimer) this.clock.clearTimeout(entry.recreateTimer);
    entry.recreateTimer = undefined;
    const watcher = entry.watcher;
    entry.watcher = undefined;
    entry.attached = false;
    if (!watcher) return;
    try {
      await watcher.cancel();
    } catch (error) {
      this.logger.debug({ key: entry.key.toString(), error: String(error) }, 'could not cancel an etcd watcher');
    }
  }

  private markDown(entry: WatchedKey): void {
    entry.attached = false;
    for (const subscription of entry.subscriptions) this.setHealth(subscription, false);
  }

  private deliver(entry: WatchedKey, event: KeyEvent): void {
    for (const subscription of [...entry.subscriptions]) {
      if (subscription.stopped) continue;
      try {
        subscription.subscriber.onEvent(event);
      } catch (error) {
        this.logger.warn({ lock: subscription.subscriber.lock, error: String(error) }, 'a watch handler threw');
      }
    }
  }

  private setHealth(subscription: Subscription, healthy: boolean): void {
    if (subscription.stopped || subscription.healthy === healthy) return;
    subscription.healthy = healthy;
    try {
      subscription.subscriber.onHealth(healthy);
    } catch (error) {
      this.logger.warn({ lock: subscription.subscriber.lock, error: String(error) }, 'a watch handler threw');
    }
  }
}
