// How a child process of the contract's cross-process case makes its locks (see
// ContractTarget.childProcessLock): its own connections, like any separate process — to a
// single server, a cluster or through a sentinel, as the options say (plain JSON).
import { RedisLock } from '../../src/index.ts';
import type { RedisConnectionOptions } from '../../src/index.ts';

export function createLock(lockName: string, identity: string, options: { connection: RedisConnectionOptions; keyPrefix: string }): RedisLock {
  return new RedisLock({ connection: options.connection, keyPrefix: options.keyPrefix, name: lockName, identity });
}
