import { ConfigError, type MemoryLockStore } from '@baton/core';
import { Container, type ContainerModule } from 'inversify';
import { memoryContainerModule } from './backends/memory.ts';
import { BUILTIN_BACKEND_MODULES } from './backends/builtin.ts';
import { BUILTIN_BACKENDS, BUILTIN_SECTION_OF } from './config/schema.ts';
import { BACKEND_NAME, LOCK_BACKEND, type LockBackend } from './registry.ts';

export interface CreateContainerOptions {
  /** Application modules: backends of its own (bound under {@link LOCK_BACKEND}), runnables. */
  modules?: readonly ContainerModule[];
  /** The store behind the `memory` backend. Default: a fresh one per container. */
  memoryStore?: MemoryLockStore;
}

/**
 * The container `baton` resolves backends and runnables from. It holds the `memory` backend
 * and the application's modules; the other built-in backends' modules (`@baton/lock-*`) are
 * loaded the first time their name is asked for, so a process loads only the client
 * library it uses. An application module binding a built-in name replaces that backend.
 */
export function createContainer(options: CreateContainerOptions = {}): Container {
  const container = new Container();
  container.load(memoryContainerModule(options.memoryStore));
  if (options.modules?.length) container.load(...options.modules);
  return container;
}

/** Every backend name the container can resolve, built-in ones first. */
export function backendNames(container: Container): string[] {
  const bound = container.isBound(BACKEND_NAME) ? container.getAll<string>(BACKEND_NAME) : [];
  return [...new Set([...BUILTIN_BACKENDS, ...bound])];
}

/** The option section of each application backend, for the configuration schema. */
export function backendSections(container: Container): Record<string, string> {
  const sections: Record<string, string> = {};
  for (const name of backendNames(container)) {
    if (name in BUILTIN_SECTION_OF) continue;
    const backend = boundBackend(container, name);
    sections[name] = backend?.section ?? name;
  }
  return sections;
}

/**
 * The backend bound under `name`, loading a built-in backend's module on first use.
 * @throws ConfigError (field `backend`) listing the valid names when there is none.
 */
export async function resolveBackend(container: Container, name: string): Promise<LockBackend> {
  let backend = boundBackend(container, name);
  if (backend === undefined) {
    const load = BUILTIN_BACKEND_MODULES[name];
    if (load !== undefined) {
      await container.loadAsync(await load());
      backend = boundBackend(container, name);
    }
  }
  if (backend === undefined && (BUILTIN_BACKENDS as readonly string[]).includes(name)) {
    throw new ConfigError('backend', `the ${name} backend is not available in this build of baton`);
  }
  if (backend === undefined) {
    throw new ConfigError('backend', `unknown backend "${name}"; valid backends: ${backendNames(container).join(', ')}`);
  }
  return backend;
}

function boundBackend(container: Container, name: string): LockBackend | undefined {
  if (!container.isBound(LOCK_BACKEND, { name })) return undefined;
  // Several modules may bind one name: the first one bound wins. Application modules are
  // loaded with the container, before any built-in module is loaded lazily, so theirs win.
  return container.getAll<LockBackend>(LOCK_BACKEND, { name })[0];
}
