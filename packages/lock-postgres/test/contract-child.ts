// How a child process of the contract's cross-process case makes its locks (see
// ContractTarget.childProcessLock): a factory of its own per lock, like a separate process.
import type pg from 'pg';
import { createPostgresLock } from '../src/index.ts';
import type { PostgresLock } from '../src/index.ts';

export function createLock(lockName: string, identity: string, options: { poolConfig: pg.PoolConfig; table: string; sessionTimeout: number; holderCheckInterval: number }): PostgresLock {
  return createPostgresLock({ ...options, applicationName: 'baton-contract-child', name: lockName, identity });
}
