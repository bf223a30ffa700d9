import { describeResourceLockContract } from '@baton/contract';
import { RedisLock, RedisLockFactory } from '../src/index.ts';
import { SHARED, adminClient, deleteKeys, testPrefix } from './support/env.ts';

// The full @baton/contract suite against the shared redis-server on 127.0.0.1:6379. Every
// lock opens its own connections (as a separate process would) under this run's own prefix.
const keyPrefix = testPrefix();
const admin = adminClient();
// Connection names of this file's own, so the watch-break case ends only its subscribers.
const connectionName = `contract-${keyPrefix.replace(/[^A-Za-z0-9_-]/g, '')}`;

describeResourceLockContract({
  name: 'redis (single server)',
  createLock: (lockName, identity) => new RedisLock({ connection: { ...SHARED }, connectionName, keyPrefix, name: lockName, identity }),
  plantCorruptRecord: async (lockName) => {
    // Not a baton record: a list where the record hash should be.
    await admin.rpush(`${keyPrefix}{${lockName}}`, 'not', 'a', 'record');
  },
  watch: true,
  interruptWatches: async () => {
    // The server ends this file's subscriber connections, as a restart or a failover would.
    const clients = String(await admin.client('LIST')).split('\n');
    for (const line of clients) {
      const id = /\bid=(\d+)/.exec(line)?.[1];
      if (id && line.includes(` name=${connectionName}-sub `)) await admin.client('KILL', 'ID', id);
    }
  },
  childProcessLock: () => ({ module: new URL('./support/contract-child.ts', import.meta.url), options: { connection: { ...SHARED }, keyPrefix } }),
  fastPath: true,
  // Native semaphores and reader-writer locks (one script per try), each factory a process of its own.
  createFactory: () => new RedisLockFactory({ connection: { ...SHARED }, connectionName, keyPrefix }),
  teardown: async () => {
    await deleteKeys(admin, keyPrefix);
    await admin.quit();
  },
});
