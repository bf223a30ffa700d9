import { MemoryLockStore } from '@baton/core';
import type { ContainerModule } from 'inversify';
import type { LockBackend } from '../registry.ts';
import { bindBackends } from './bind.ts';

/**
 * The `memory` backend: locks in one {@link MemoryLockStore}, shared by every elector the
 * container makes. In-process only — for tests, examples, and trying the Manager out.
 */
export function memoryBackend(store: MemoryLockStore = new MemoryLockStore()): LockBackend {
  return {
    name: 'memory',
    description: 'in-process locks (tests and examples; no protection across processes)',
    open: () => ({ lock: (name, identity) => store.lock(name, identity) }),
  };
}

/** Binds the `memory` backend over `store` (a fresh one by default). */
export function memoryContainerModule(store?: MemoryLockStore): ContainerModule {
  return bindBackends([memoryBackend(store)]);
}
