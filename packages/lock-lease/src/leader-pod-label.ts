import type { BatonError, LeaderCallbacks, LeaderTerm, Logger } from '@baton/core';
import { AuthenticationError, BackendUnavailableError, PermissionDeniedError, silentLogger } from '@baton/core';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { statusOf } from './kube-errors.ts';

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
      const stale = await this.api.listNamespacedPod({ namespace, labelSelector: `${key}=true` }).catch((error: unknown) => {
        throw labelError(error, 'list', undefined, namespace);
      });
      for (const pod of stale.items) {
        const name = pod.metadata?.name;
        if (name && name !== podName) await this.setLabel(name, null);
      }
      await this.setLabel(podName, 'true');
    } catch (error) {
      this.report(error as BatonError, 'could not label the leader pod');
    }
  }

  /** Removes the label from this pod. */
  async drop(): Promise<void> {
    try {
      await this.setLabel(this.options.podName, null);
    } catch (error) {
      this.report(error as BatonError, 'could not remove the leader label');
    }
  }

  /**
   * Leadership goes on without the label (the lock is what elects; the label only routes
   * traffic), so a failure is logged rather than thrown — at error level when it is permanent,
   * since then the Service reaches no pod until someone fixes the Role.
   */
  private report(error: BatonError, what: string): void {
    const fields = { error: error.message, code: error.code, permanent: error.permanent, pod: this.options.podName };
    if (error.permanent) this.options.logger.error(fields, what);
    else this.options.logger.warn(fields, what);
  }

  private async setLabel(pod: string, value: string | null): Promise<void> {
    const { namespace, key } = this.options;
    // client-node sends JSON Patch unless told otherwise; a label change is a merge patch.
    await this.api
      .patchNamespacedPod({ name: pod, namespace, body: { metadata: { labels: { [key]: value } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
      .catch((error: unknown) => {
        throw labelError(error, 'patch', pod, namespace);
      });
  }
}

/**
 * client-node's failure as one line: its ApiException's message is several lines of
 * `HTTP-Code: … Body: …`. A 403 names the call and the Role that grants it.
 */
function labelError(error: unknown, verb: 'list' | 'patch', pod: string | undefined, namespace: string): BatonError {
  const code = statusOf(error);
  const what = `${verb} pods${pod === undefined ? '' : ` "${pod}"`} in namespace "${namespace}"`;
  if (code === undefined) {
    return new BackendUnavailableError(`cannot ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const message = statusMessage((error as { body?: unknown }).body) ?? `HTTP ${code}`;
  if (code === 403) {
    return new PermissionDeniedError(
      `not allowed to ${what} (403): ${message} — kubernetes.leaderPodLabel needs the Role in deploy/kubernetes/rbac-leader-pod-label.yaml`,
      { cause: error },
    );
  }
  if (code === 401) return new AuthenticationError(`the API server rejected the token (401) on ${what}`, { cause: error });
  return new BackendUnavailableError(`${what}: the API server answered ${code}: ${message}`, { cause: error });
}

/** The `message` of the Status object in an error body (client-node gives it as text or parsed). */
function statusMessage(body: unknown): string | undefined {
  let status = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (status as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}
