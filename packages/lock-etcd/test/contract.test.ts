import { afterAll, beforeAll } from '@jest/globals';
import { describeResourceLockContract } from '@baton/contract';
import { TcpProxy } from '@baton/testkit';
import type { Etcd3 } from 'etcd3';
import { EtcdLock } from '../src/index.ts';
import { EtcdCluster } from '@baton/testkit';
import { testPrefixes } from './support/env.ts';

// The full @baton/contract suite against an etcd of this file's own (one member on loopback
// ports), twice: plain records, and records bound to the holder's session lease. Every lock
// opens its own client, as a separate process would.
let cluster: EtcdCluster;
let admin: Etcd3;
// The watch cases' locks reach etcd through a proxy, so a test can break their connections.
let watchProxy: TcpProxy;

beforeAll(async () => {
  cluster = await EtcdCluster.start(1);
  admin = cluster.adminClient();
  watchProxy = await TcpProxy.start(cluster.members[0]!.clientPort);
});

afterAll(async () => {
  admin.close();
  await watchProxy.close();
  await cluster.stop();
});

for (const session of [false, true]) {
  const prefixes = testPrefixes();
  describeResourceLockContract({
    name: session ? 'etcd (session-bound records)' : 'etcd',
    createLock: (lockName, identity) => new EtcdLock({ connection: cluster.urls.join(','), ...prefixes, session, name: lockName, identity }),
    plantCorruptRecord: async (lockName) => {
      // Not a baton record: a plain string where the JSON record should be.
      await admin.put(`${prefixes.keyPrefix}${lockName}`).value('not a record');
    },
    watch: true,
    // etcd's watch never polls; through the proxy only so the break below can reach it.
    createPushOnlyLock: (lockName, identity) => new EtcdLock({ connection: watchProxy.url, ...prefixes, session, name: lockName, identity }),
    // Every connection to the member reset, as a member restart or a network blip would.
    interruptWatches: async () => watchProxy.reset(),
    deleteRecord: async (lockName) => {
      await admin.delete().key(`${prefixes.keyPrefix}${lockName}`);
    },
    childProcessLock: () => ({
      module: new URL('./support/contract-child.ts', import.meta.url),
      options: { connection: cluster.urls.join(','), ...prefixes, session },
    }),
    fastPath: true,
  });
}
