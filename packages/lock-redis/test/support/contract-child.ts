// How a child process of the contract's cross-process case makes its locks (see
// ContractTarget.childProcessLock): its own connections, like any separate process.
import { RedisLock } from '../../src/index.ts';

export function createLock(lockName: string, identity: string, options: { host: string; port: number; keyPrefix: string }): RedisLock {
  return new RedisLock({ connection: { host: options.host, port: options.port }, keyPrefix: options.keyPrefix, name: lockName, identity });
}
