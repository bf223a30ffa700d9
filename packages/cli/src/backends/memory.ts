import { MemoryLockStore } from '@baton/core';
import { ContainerModule } from 'inversify';
import { BACKEND_NAME, LOCK_BACKEND, type LockBackend } from '../registry.ts';

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
  const backend = memoryBackend(store);
  return new ContainerModule(({ bind }) => {
    bind<LockBackend>(LOCK_BACKEND).toConstantValue(backend).whenNamed(backend.name);
    bind<string>(BACKEND_NAME).toConstantValue(backend.name);
  });
}
