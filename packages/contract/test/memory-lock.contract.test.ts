import { MemoryLockStore } from '@baton/core';
import { describeResourceLockContract } from '../src/index.ts';

const store = new MemoryLockStore();

describeResourceLockContract({
  name: 'memory',
  createLock: (lockName, identity) => store.lock(lockName, identity),
  plantCorruptRecord: async (lockName) => store.plant(lockName, { holderIdentity: 42, junk: true }),
  watch: true,
});
