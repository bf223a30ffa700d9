import type { Logger } from '@baton/core';
import type { KubeClient } from './kube-client.ts';
import type { KubeObject, KubeResource, LeaderEventSink } from './kube-object.ts';

/**
 * Records `LeaderElection` Events on the lock object, as client-go's EventRecorder does, so
 * `kubectl describe lease NAME` shows who led when. Fire and forget, at the rate limiter's
 * low priority: a failure to record (no RBAC for events, say) is logged once per factory and
 * never affects the election.
 */
export class EventRecorder implements LeaderEventSink {
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private warned = false;
  /** Keeps names unique when two events fall in the same millisecond. */
  private sequence = 0;

  constructor(client: KubeClient, logger: Logger) {
    this.client = client;
    this.logger = logger;
  }

  record(object: KubeObject, resource: KubeResource, message: string): void {
    const meta = object.metadata ?? {};
    const now = new Date();
    const namespace = meta.namespace ?? 'default';
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      // client-go's naming: the object's name and the time in hexadecimal nanoseconds.
      metadata: { name: `${meta.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence++)).toString(16)}`, namespace },
      involvedObject: {
        apiVersion: resource.apiVersion,
        kind: resource.kind,
        name: meta.name,
        namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason: 'LeaderElection',
      message,
      type: 'Normal',
      source: { component: 'baton' },
      firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(),
      count: 1,
    };
    this.client
      .request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body, priority: 'acquire' })
      .catch((error: unknown) => {
        if (this.warned) return;
        this.warned = true;
        this.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not record a leader election Event');
      });
  }
}
