import type { LeaderCallbacks, LeaderTerm, Logger } from '@baton/core';
import { silentLogger } from '@baton/core';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

/** The label a Service selects to send traffic to the leader only. */
export const DEFAULT_LEADER_LABEL = 'baton.dev/leader';

export interface LeaderPodLabelOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** This pod's name (the downward API's `metadata.name`, usually as `POD_NAME`). */
  podName: string;
  /** Label key. Default {@link DEFAULT_LEADER_LABEL}; its value is `"true"`. */
  key?: string;
  logger?: Logger;
}

/**
 * Routes traffic to the leader: labels this pod `baton.dev/leader: "true"` while it leads and
 * removes the label when it stops, so a Service selecting that label reaches the leader only.
 * A new leader also clears the label from any other pod (a crashed predecessor's).
 *
 * Better than patching a Service's selector with the pod name: the Service stays declarative
 * and a crash never leaves it pointing at a dead pod for longer than one election.
 */
export class LeaderPodLabel {
  private readonly api: CoreV1Api;
  private readonly options: LeaderPodLabelOptions & { key: string; logger: Logger };

  constructor(options: LeaderPodLabelOptions) {
    this.options = { ...options, key: options.key ?? DEFAULT_LEADER_LABEL, logger: options.logger ?? silentLogger };
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** `callbacks` with labelling added around them. */
  wrap(callbacks: LeaderCallbacks): LeaderCallbacks {
    return {
      ...callbacks,
      onStartedLeading: async (term: LeaderTerm) => {
        await this.claim();
        await callbacks.onStartedLeading(term);
      },
      onStoppedLeading: () => {
        void this.drop();
        callbacks.onStoppedLeading?.();
      },
    };
  }

  /** Clears the label from every other pod, then sets it on this one. */
  async claim(): Promise<void> {
    const { namespace, podName, key } = this.options;
    try {
      const stale = await this.api.listNamespacedPod({ namespace, labelSelector: `${key}=true` });
      for (const pod of stale.items) {
        const name = pod.metadata?.name;
        if (name && name !== podName) await this.setLabel(name, null);
      }
      await this.setLabel(podName, 'true');
    } catch (error) {
      this.options.logger.warn({ error: String(error), pod: podName }, 'could not label the leader pod');
    }
  }

  /** Removes the label from this pod. */
  async drop(): Promise<void> {
    try {
      await this.setLabel(this.options.podName, null);
    } catch (error) {
      this.options.logger.warn({ error: String(error), pod: this.options.podName }, 'could not remove the leader label');
    }
  }

  private async setLabel(pod: string, value: string | null): Promise<void> {
    const { namespace, key } = this.options;
    // client-node sends JSON Patch unless told otherwise; a label change is a merge patch.
    await this.api.patchNamespacedPod(
      { name: pod, namespace, body: { metadata: { labels: { [key]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
