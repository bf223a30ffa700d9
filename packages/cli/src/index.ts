/**
 * @packageDocumentation
 * `@baton/cli` — the `baton` sidecar command over `@baton/runtime`: `run` (a command while
 * leading), `status`, `demo`.
 */
export { createLogger } from './logger.ts';
export type { LoggerOptions, LogFormat } from './logger.ts';
export { runCommand, exitCodeOf } from './child.ts';
export type { CommandResult, RunCommandOptions } from './child.ts';
export { main, EXIT } from './cli.ts';
export type { CliIo } from './io.ts';
