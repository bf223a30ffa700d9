import type { Logger } from '@baton/core';
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './kube-object-lock.ts';

export interface WatchObjectOptions {
  kubeConfig: KubeConfig;
  collectionPath: string;
  name: string;
  logger: Logger;
  /** The object as it now is, `null` once deleted. */
  onObject(object: KubeObject | null): void;
  /** See `WatchHandlers.onHealth`: `false` whenever events may have been missed. */
  onHealth(healthy: boolean): void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * Watches one named object through the API's watch, for as long as it is not stopped.
 * A stream the server ends is resumed from the last resourceVersion, missing nothing; when
 * that version is too old (410 Gone) or the stream failed, it starts over from the current
 * state and reports the gap through `onHealth(false)` first.
 * @returns a function that stops watching.
 */
export function watchObject(options: WatchObjectOptions): () => void {
  const watch = new Watch(options.kubeConfig);
  let stopped = false;
  let resourceVersion: string | undefined;
  let request: AbortController | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = MIN_BACKOFF_MS;
  let healthy = false;

  const setHealth = (value: boolean): void => {
    if (healthy === value) return;
    healthy = value;
    options.onHealth(value);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    let ended = false;
    const end = (error: unknown): void => {
      if (ended || stopped) return;
      ended = true;
      request = undefined;
      if (error) {
        // Could not resume: whatever changed meanwhile must be read afresh.
        setHealth(false);
        resourceVersion = undefined;
        options.logger.debug({ error: String(error), delayMs: backoff }, 'watch failed; reconnecting');
        retryTimer = setTimeout(() => void connect(), backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      } else {
        void connect();
      }
    };
    try {
      request = await watch.watch(
        options.collectionPath,
        {
          fieldSelector: `metadata.name=${options.name}`,
          allowWatchBookmarks: true,
          ...(resourceVersion === undefined ? {} : { resourceVersion }),
        },
        (type: string, object: KubeObject & { code?: number }) => {
          if (type === 'ERROR') {
            request?.abort();
            end(new Error(`watch error ${object.code ?? ''}: ${JSON.stringify(object).slice(0, 200)}`));
            return;
          }
          resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
          if (type === 'BOOKMARK') return;
          options.onObject(type === 'DELETED' ? null : object);
        },
        (error: unknown) => end(error ?? null),
      );
      if (stopped) {
        request.abort();
        return;
      }
      backoff = MIN_BACKOFF_MS;
      setHealth(true);
    } catch (error) {
      end(error);
    }
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    request?.abort();
  };
}
