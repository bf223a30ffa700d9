import { describeResourceLockContract } from '@baton/contract';
import type { Etcd3 } from 'etcd3';
import { EtcdLock } from '../src/index.ts';
import { EtcdCluster } from './support/etcd-server.ts';
import { testPrefixes } from './support/env.ts';

// The full @baton/contract suite against an etcd of this file's own (one member on loopback
// ports), twice: plain records, and records bound to the holder's session lease. Every lock
// opens its own client, as a separate process would.
let started: Promise<{ cluster: EtcdCluster; admin: Etcd3 }> | undefined;
const etcd = () =>
  (started ??= EtcdCluster.start(1).then((cluster) => ({ cluster, admin: cluster.adminClient() })));

for (const session of [false, true]) {
  const prefixes = testPrefixes();
  describeResourceLockContract({
    name: session ? 'etcd (session-bound records)' : 'etcd',
    createLock: async (lockName, identity) => {
      const { cluster } = await etcd();
      return new EtcdLock({ connection: cluster.urls.join(','), ...prefixes, session, name: lockName, identity });
    },
    plantCorruptRecord: async (lockName) => {
      const { admin } = await etcd();
      // Not a baton record: a plain string where the JSON record should be.
      await admin.put(`${prefixes.keyPrefix}${lockName}`).value('not a record');
    },
    watch: true,
    teardown: async () => {
      if (!session) return; // the second suite's teardown stops the shared server
      const { cluster, admin } = await etcd();
      admin.close();
      await cluster.stop();
    },
  });
}
