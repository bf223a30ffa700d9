import { silentLogger, systemClock } from '@baton/core';
import type { Clock, Logger } from '@baton/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { EventRecorder } from './event-recorder.ts';
import { Informer } from './informer.ts';
import { KubeClient } from './kube-client.ts';
import type { KubeClientOptions, KubeResource, LeaderEventSink } from './kube-object.ts';

/**
 * What the locks of one factory share: one HTTP client (keep-alive pool, rate limiter), one
 * informer per resource and namespace, one Event recorder.
 */
export class KubeContext {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Absent with `events: false`. */
  readonly events: LeaderEventSink | undefined;
  private readonly informers = new Map<string, Informer>();

  constructor(options: KubeClientOptions & { kubeConfig: KubeConfig; logger?: Logger; clock?: Clock; events?: boolean }) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.client = new KubeClient(options.kubeConfig, options, this.clock);
    this.events = options.events === false ? undefined : new EventRecorder(this.client, this.logger);
  }

  /** The informer of `resource` (one per collection URL, so per namespace). */
  informer(resource: KubeResource): Informer {
    let informer = this.informers.get(resource.collectionPath);
    if (!informer) {
      informer = new Informer(this.client, resource, this.logger);
      this.informers.set(resource.collectionPath, informer);
    }
    return informer;
  }

  /** Watch streams open across the informers. */
  get watchStreams(): number {
    let n = 0;
    for (const informer of this.informers.values()) n += informer.streams;
    return n;
  }

  close(): void {
    for (const informer of this.informers.values()) informer.close();
    this.informers.clear();
    this.client.close();
  }
}
