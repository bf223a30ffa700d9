import { afterAll, afterEach, describe } from '@jest/globals';
import { describeChildProcessContract } from './child-process-contract.ts';
import { describeDistributedLocksContract } from './distributed-locks-contract.ts';
import { describeElectorContract } from './elector-contract.ts';
import { describeNativePrimitivesContract } from './native-primitives-contract.ts';
import { describePrimitivesContract } from './primitives-contract.ts';
import { describeReadWriteContract } from './rw-contract.ts';
import { describeSemaphoreContract } from './semaphore-contract.ts';
import { makeSuite } from './suite.ts';
import type { ContractTarget } from './target.ts';

/**
 * Registers the whole contract suite for one backend: the lock primitives (watch and the fast
 * path among them), electors racing on top of it, distributed locks, semaphores and
 * reader-writer locks (built from the target's locks, and again on its factory's native
 * primitives when it offers them). Call it at the top
 * level of an adapter's test file.
 */
export function describeResourceLockContract(target: ContractTarget): void {
  const suite = makeSuite(target);
  describe(`ResourceLock contract: ${target.name}`, () => {
    afterEach(() => suite.cleanUp());
    afterAll(async () => {
      await target.teardown?.();
    });
    describePrimitivesContract(suite);
    describeElectorContract(suite);
    describeDistributedLocksContract(suite);
    describeSemaphoreContract(suite);
    describeReadWriteContract(suite);
    describeChildProcessContract(suite);
    describeNativePrimitivesContract(suite);
  });
}
