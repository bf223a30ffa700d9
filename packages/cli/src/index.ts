/**
 * @packageDocumentation
 * `@baton/cli` — pick a backend by configuration, run leader-only work, and the `baton`
 * sidecar command.
 *
 * - {@link loadConfig}: one schema for a YAML/JSON file, `BATON_*` variables and flags.
 * - {@link createContainer} / {@link createElector}: backends are inversify bindings under
 *   {@link LOCK_BACKEND}, named after the backend; the configuration picks one.
 * - {@link Manager}: controller-runtime's manager — runnables, leader-only or not, health,
 *   readiness and metrics.
 */
export { loadConfig, ConfigValidationError, describeSource } from './config/load.ts';
export type { ConfigProblem, ConfigSource, LoadConfigOptions, LoadedConfig } from './config/load.ts';
export { createConfigSchema, BUILTIN_BACKENDS, DEFAULT_TIMINGS } from './config/schema.ts';
export type { BatonConfig, BatonConfigInput } from './config/schema.ts';
export { CONFIG_OPTIONS, CONFIG_FILE_ENV } from './config/options.ts';
export type { OptionSpec } from './config/options.ts';
export { LOCK_BACKEND, BACKEND_NAME, RUNNABLE } from './registry.ts';
export type { BackendContext, BackendName, LockBackend, LockFactory, Runnable, RunContext } from './registry.ts';
export { createContainer, resolveBackend, backendNames } from './container.ts';
export type { CreateContainerOptions } from './container.ts';
export { memoryBackend, memoryContainerModule } from './backends/memory.ts';
export { createElector, openLock } from './elector.ts';
export type { BatonElector, ConfigLike, CreateElectorOptions, OpenedLock, OpenLockOptions } from './elector.ts';
export { Manager } from './manager.ts';
export type { ManagerOptions } from './manager.ts';
export { PrometheusElectorMetrics } from './metrics.ts';
export { startStatusServer } from './http-server.ts';
export type { LeaderInfo, StatusServer, StatusServerOptions } from './http-server.ts';
export { createLogger } from './logger.ts';
export type { LoggerOptions, LogFormat } from './logger.ts';
export { runCommand, exitCodeOf } from './child.ts';
export type { CommandResult, RunCommandOptions } from './child.ts';
export { main, EXIT } from './cli.ts';
export type { CliIo } from './cli.ts';
