import { ContainerModule } from 'inversify';
import { BACKEND_NAME, LOCK_BACKEND, type LockBackend } from '../registry.ts';

/** A container module binding each backend under {@link LOCK_BACKEND}, named after it, and its name under {@link BACKEND_NAME}. */
export function bindBackends(backends: readonly LockBackend[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const backend of backends) {
      bind<LockBackend>(LOCK_BACKEND).toConstantValue(backend).whenNamed(backend.name);
      bind<string>(BACKEND_NAME).toConstantValue(backend.name);
    }
  });
}
