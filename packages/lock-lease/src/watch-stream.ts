import type { Clock, Logger, TimerHandle } from '@baton/core';
import type { IncomingMessage } from 'node:http';
import { KubeApiError } from './kube-client.ts';
import type { KubeClient } from './kube-client.ts';
import type { KubeObject, KubeResource } from './kube-object.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchStreamOptions {
  client: KubeClient;
  resource: KubeResource;
  /** `metadata.name=x` to watch one object (what a Role with resourceNames allows), or none for the namespace. */
  fieldSelector?: string;
  logger: Logger;
  clock: Clock;
  /** After every (re)list: every object that exists now. Events follow from that state on. */
  onSynced(objects: KubeObject[]): void;
  onEvent(type: WatchEventType, object: KubeObject): void;
  /** The stream broke: events may be missed until the next `onSynced` (or a resumed watch). */
  onBroken(): void;
  /** Resumed from the last resourceVersion after a break: nothing was missed. */
  onResumed(): void;
  /** A 403 on list or watch. Return true to stop this stream for good (the caller falls back). */
  onDenied(error: KubeApiError): boolean;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
const PAGE_SIZE = 500;

/** The watch answered 410 Gone: the resourceVersion is too old, a fresh list is needed. */
class WatchExpired extends Error {}

/**
 * client-go's reflector for one selector: list (in pages), then watch from the list's
 * resourceVersion with bookmarks. A stream the server ends (its timeout) is resumed from the
 * last resourceVersion, missing nothing; a broken one is resumed after a backoff; a 410 Gone
 * relists. Timers run on the injected clock.
 */
export class WatchStream {
  private readonly options: WatchStreamOptions;
  private stopped = false;
  private resourceVersion: string | undefined;
  private request: AbortController | undefined;
  private backoffMs = MIN_BACKOFF_MS;
  private sleepTimer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private broken = false;

  constructor(options: WatchStreamOptions) {
    this.options = options;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.request?.abort();
    if (this.sleepTimer !== undefined) this.options.clock.clearTimeout(this.sleepTimer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) {
          const { items, resourceVersion } = await this.list();
          if (this.stopped) return;
          this.resourceVersion = resourceVersion;
          this.broken = false;
          this.options.onSynced(items);
        }
        await this.watchOnce();
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof WatchExpired) {
          this.resourceVersion = undefined;
          this.markBroken();
          continue;
        }
        if (error instanceof KubeApiError && error.code === 403 && this.options.onDenied(error)) return;
        this.markBroken();
        logger.debug({ error: String(error), delayMs: this.backoffMs, resource: this.options.resource.resource }, 'watch failed; retrying');
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private markBroken(): void {
    if (this.broken) return;
    this.broken = true;
    this.options.onBroken();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.options.clock.setTimeout(resolve, ms);
    });
  }

  private async list(): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let next: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (this.options.fieldSelector) query.set('fieldSelector', this.options.fieldSelector);
      if (next) query.set('continue', next);
      this.request = new AbortController();
      const page = await this.options.client.request<{ items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        'GET',
        `${this.options.resource.collectionPath}?${query}`,
        { signal: this.request.signal, priority: 'hold' },
      );
      for (const item of page.items ?? []) items.push(item);
      resourceVersion ||= page.metadata?.resourceVersion ?? '';
      next = page.metadata?.continue || undefined;
    } while (next !== undefined && !this.stopped);
    return { items, resourceVersion };
  }

  /** One watch request, until the server ends it (resolves) or it fails (throws). */
  private async watchOnce(): Promise<void> {
    const query = new URLSearchParams({ allowWatchBookmarks: 'true', resourceVersion: this.resourceVersion! });
    if (this.options.fieldSelector) query.set('fieldSelector', this.options.fieldSelector);
    this.request = new AbortController();
    let response: IncomingMessage;
    try {
      response = await this.options.client.watch(this.options.resource.collectionPath, query, this.request.signal);
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 410) throw new WatchExpired();
      throw error;
    }
    if (this.broken) {
      this.broken = false;
      this.options.onResumed();
    }
    this.backoffMs = MIN_BACKOFF_MS;
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        try {
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.trim()) this.dispatch(line);
          }
        } catch (error) {
          response.destroy();
          reject(error);
        }
      });
      response.once('end', () => resolve());
      response.once('error', reject);
      response.once('close', () => (response.complete ? resolve() : reject(new Error('the watch stream was cut off'))));
    });
  }

  private dispatch(line: string): void {
    const event = JSON.parse(line) as { type: string; object: KubeObject & { code?: number; message?: string } };
    const { type, object } = event;
    if (type === 'ERROR') {
      if (object.code === 410) throw new WatchExpired();
      throw new Error(`watch error ${object.code ?? ''}: ${object.message ?? JSON.stringify(object).slice(0, 200)}`);
    }
    this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
    if (type === 'BOOKMARK') return;
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.options.onEvent(type, object);
  }
}
