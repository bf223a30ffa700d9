import type { Logger } from '@baton/core';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, KubeObjectApi } from './kube-object-lock.ts';

/**
 * Records `LeaderElection` Events on the lock object, as client-go's EventRecorder does, so
 * `kubectl describe lease NAME` shows who led when. Fire and forget: a failure to record
 * (no RBAC for events, say) is logged once per lock and never affects the election.
 */
export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly logger: Logger;
  private warned = false;
  /** Keeps names unique when two events fall in the same millisecond. */
  private sequence = 0;

  constructor(kubeConfig: KubeConfig, logger: Logger) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.logger = logger;
  }

  record(object: KubeObject, kind: KubeObjectApi<KubeObject>, message: string): void {
    const meta = object.metadata ?? {};
    const now = new Date();
    const namespace = meta.namespace ?? 'default';
    this.api
      .createNamespacedEvent({
        namespace,
        body: {
          // client-go's naming: the object's name and the time in hexadecimal nanoseconds.
          metadata: { name: `${meta.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence++)).toString(16)}`, namespace },
          involvedObject: {
            apiVersion: kind.apiVersion,
            kind: kind.kind,
            name: meta.name,
            namespace,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
          reason: 'LeaderElection',
          message,
          type: 'Normal',
          source: { component: 'baton' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((error: unknown) => {
        if (this.warned) return;
        this.warned = true;
        this.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not record a leader election Event');
      });
  }
}
