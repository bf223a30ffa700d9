/**
 * @packageDocumentation
 * `@baton/runtime` — pick a backend by configuration and run leader-only work, the way
 * controller-runtime's manager does it for Go. Shared by applications and the `baton` CLI.
 *
 * - {@link loadConfig}: one schema for a YAML/JSON file, `BATON_*` variables and flags.
 * - {@link createContainer} / {@link createElector}: backends are inversify bindings under
 *   {@link LOCK_BACKEND}, named after the backend; the configuration picks one. The built-in
 *   backends' adapters (`@baton/lock-*`) are optional peers, imported only when selected.
 * - {@link Manager}: runnables, leader-only or not, `/leader`, `/healthz`, `/readyz` and
 *   `/metrics` (prom-client, an optional peer; `@baton/runtime/prometheus`).
 */
export { loadConfig, ConfigValidationError, describeSource } from './config/load.ts';
export type { ConfigProblem, ConfigSource, LoadConfigOptions, LoadedConfig } from './config/load.ts';
export { createConfigSchema, BUILTIN_BACKENDS, DEFAULT_TIMINGS } from './config/schema.ts';
export type { BatonConfig, BatonConfigInput } from './config/schema.ts';
export { CONFIG_OPTIONS, CONFIG_FILE_ENV } from './config/options.ts';
export type { OptionSpec } from './config/options.ts';
export { LOCK_BACKEND, BACKEND_NAME, RUNNABLE } from './registry.ts';
export type { BackendContext, BackendName, LockBackend, LockFactory, Runnable, RunContext } from './registry.ts';
export { createContainer, resolveBackend, backendNames, backendSections } from './container.ts';
export type { CreateContainerOptions } from './container.ts';
export { bindBackends } from './backends/bind.ts';
export { memoryBackend, memoryContainerModule } from './backends/memory.ts';
export { createElector, openLock } from './elector.ts';
export type { BatonElector, ConfigLike, CreateElectorOptions, OpenedLock, OpenLockOptions } from './elector.ts';
export { Manager } from './manager.ts';
export type { ManagerMetrics, ManagerOptions } from './manager.ts';
export { startStatusServer } from './http-server.ts';
export type { LeaderInfo, MetricsSource, StatusServer, StatusServerOptions } from './http-server.ts';
export type { Container, ContainerModule } from 'inversify';
