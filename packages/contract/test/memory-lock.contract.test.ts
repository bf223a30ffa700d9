import { MemoryLockStore } from '@baton/core';
import { describeResourceLockContract } from '../src/index.ts';

// Both ways a backend can acquire: in one operation (acquireIfFree), and by a read and a write.
for (const fastPath of [true, false]) {
  const store = new MemoryLockStore({ fastPath });
  describeResourceLockContract({
    name: fastPath ? 'memory' : 'memory without the fast path',
    createLock: (lockName, identity) => store.lock(lockName, identity),
    plantCorruptRecord: async (lockName) => store.plant(lockName, { holderIdentity: 42, junk: true }),
    watch: true,
    deleteRecord: async (lockName) => store.delete(lockName),
    fastPath,
  });
}
