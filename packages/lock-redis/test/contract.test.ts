import { describeResourceLockContract } from '@baton/contract';
import { RedisLock } from '../src/index.ts';
import { SHARED, adminClient, deleteKeys, testPrefix } from './support/env.ts';

// The full @baton/contract suite against the shared redis-server on 127.0.0.1:6379. Every
// lock opens its own connections (as a separate process would) under this run's own prefix.
const keyPrefix = testPrefix();
const admin = adminClient();

describeResourceLockContract({
  name: 'redis (single server)',
  createLock: (lockName, identity) => new RedisLock({ connection: { ...SHARED }, keyPrefix, name: lockName, identity }),
  plantCorruptRecord: async (lockName) => {
    // Not a baton record: a list where the record hash should be.
    await admin.rpush(`${keyPrefix}{${lockName}}`, 'not', 'a', 'record');
  },
  watch: true,
  fastPath: true,
  teardown: async () => {
    await deleteKeys(admin, keyPrefix);
    await admin.quit();
  },
});
