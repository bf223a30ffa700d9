// How a child process of the contract's cross-process case makes its locks (see
// ContractTarget.childProcessLock): one etcd client for the process, like a service would.
import { EtcdLockFactory } from '../../src/index.ts';
import type { EtcdLock } from '../../src/index.ts';

let factory: EtcdLockFactory | undefined;

export function createLock(lockName: string, identity: string, options: { connection: string; keyPrefix: string; fencePrefix: string; session: boolean }): EtcdLock {
  factory ??= new EtcdLockFactory(options);
  return factory.lock(lockName, identity);
}

export function close(): Promise<void> {
  return factory?.close() ?? Promise.resolve();
}
