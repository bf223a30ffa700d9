/**
 * @packageDocumentation
 * `@baton/contract` — the jest suite every baton `ResourceLock` must pass.
 *
 * @example
 * // packages/lock-foo/test/contract.test.ts
 * import { describeResourceLockContract } from '@baton/contract';
 * describeResourceLockContract({
 *   name: 'foo',
 *   createLock: (lockName, identity) => new FooLock({ lockName, identity }),
 *   plantCorruptRecord: (lockName) => writeGarbage(lockName),
 *   watch: true,
 * });
 */
export { describeResourceLockContract } from './contract.ts';
export type { ChildProcessLock, ContractTarget } from './target.ts';
export { PartitionableLock } from './partitionable-lock.ts';
export { waitFor, deferred, within } from './wait.ts';
export type { Deferred } from './wait.ts';
