/**
 * `kubernetes.leaderPodLabel`: the configured Kubernetes backend labels the leading pod, so a
 * Service selecting `baton.dev/leader=true` reaches the leader only.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startFakeApiServer, type FakeApiServer } from '@baton/fake-kube-apiserver';
import { loadConfig } from '../src/config/load.ts';
import { createElector } from '../src/elector.ts';
import { uniqueName, waitFor } from './support/process.ts';

let fake: FakeApiServer;
beforeAll(async () => {
  fake = await startFakeApiServer();
});
afterAll(async () => {
  await fake.stop();
});

const labelOf = (pod: string): string | undefined =>
  (fake.getObject('pods', 'default', pod) as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['baton.dev/leader'];

it.each(['lease', 'endpoints'])('%s: the label follows the leader from pod to pod', async (backend) => {
  const id = uniqueName('labelled');
  const replicas = await Promise.all(
    ['a', 'b'].map(async (suffix) => {
      const podName = `${id}-${suffix}`;
      fake.putObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
      const config = await loadConfig({
        env: {},
        values: {
          backend,
          leaderElectionID: id,
          namespace: 'default',
          identity: podName,
          leaseDuration: '1s',
          renewDeadline: '700ms',
          retryPeriod: '150ms',
          kubernetes: { url: fake.url, token: fake.adminToken, leaderPodLabel: true },
        },
      });
      const built = await createElector(config, { callbacks: { onStartedLeading: () => {} } });
      const stop = new AbortController();
      return { podName, built, stop, done: built.elector.run(stop.signal) };
    }),
  );
  try {
    await waitFor(() => replicas.some((r) => r.built.elector.isLeader()), 5000, 'a leader');
    const [leader, follower] = replicas[0]!.built.elector.isLeader() ? replicas : [replicas[1]!, replicas[0]!];
    await waitFor(() => labelOf(leader!.podName) === 'true', 5000, 'the leader pod to be labelled');
    expect(labelOf(follower!.podName)).toBeUndefined();
    leader!.stop.abort();
    await leader!.done;
    await waitFor(() => labelOf(follower!.podName) === 'true', 5000, 'the label to move');
    await waitFor(() => labelOf(leader!.podName) === undefined, 5000, 'the old leader to be unlabelled');
  } finally {
    for (const r of replicas) r.stop.abort();
    await Promise.all(replicas.map((r) => r.done));
    await Promise.all(replicas.map((r) => r.built.close()));
  }
});
