import {
  ConfigError,
  defaultIdentity,
  LeaderElector,
  silentLogger,
  type ElectorMetrics,
  type LeaderCallbacks,
  type Logger,
  type ResourceLock,
} from '@baton/core';
import type { Container } from 'inversify';
import type { ConfigSource, LoadedConfig } from './config/load.ts';
import { ConfigValidationError } from './config/load.ts';
import { BUILTIN_SECTION_OF, sectionOf, type BatonConfig } from './config/schema.ts';
import { createContainer, resolveBackend } from './container.ts';

/** A configuration as {@link loadConfig} returns it, or a bare validated one. */
export type ConfigLike = BatonConfig | LoadedConfig;

export interface OpenLockOptions {
  /** Where backends are bound. Default: a container with the built-in backends. */
  container?: Container;
  /** Where the backend logs connection trouble. */
  logger?: Logger;
  /** Overrides the configured identity. */
  identity?: string;
}

/** A lock opened from the configuration. */
export interface OpenedLock {
  readonly lock: ResourceLock;
  readonly identity: string;
  /** The backend's additions to the elector's callbacks (see `LockFactory.decorate`). */
  readonly decorate?: (callbacks: LeaderCallbacks) => LeaderCallbacks;
  /** Closes the lock and the connections its backend opened. */
  close(): Promise<void>;
}

function unwrap(config: ConfigLike): { config: BatonConfig; loaded?: LoadedConfig } {
  return 'config' in config && 'sourceOf' in config ? { config: config.config, loaded: config } : { config: config as BatonConfig };
}

/**
 * Opens the lock the configuration names: resolves its backend in the container, opens it
 * with its section of the configuration and asks it for the lock `leaderElectionID`.
 * @throws ConfigValidationError when the backend rejects an option (named with its section
 *   and where it was set).
 */
export async function openLock(configLike: ConfigLike, options: OpenLockOptions = {}): Promise<OpenedLock> {
  const { config, loaded } = unwrap(configLike);
  const container = options.container ?? createContainer();
  const logger = options.logger ?? silentLogger;
  const identity = options.identity ?? config.identity ?? defaultIdentity();
  const backend = await withFields(loaded, '', () => resolveBackend(container, config.backend));
  const section = backend.section ?? BUILTIN_SECTION_OF[backend.name] ?? backend.name;
  const context = {
    namespace: config.namespace,
    logger,
    baseDir: loaded?.baseDir ?? process.cwd(),
    timings: { leaseDurationMs: config.leaseDuration, renewDeadlineMs: config.renewDeadline, retryPeriodMs: config.retryPeriod },
  };
  const factory = await withFields(loaded, section, () => backend.open(sectionOf(config, section), context));
  let lock: ResourceLock;
  try {
    lock = await withFields(loaded, section, () => factory.lock(config.leaderElectionID, identity));
  } catch (error) {
    await factory.close?.();
    throw error;
  }
  return {
    lock,
    identity,
    ...(factory.decorate && { decorate: (callbacks: LeaderCallbacks) => factory.decorate!(callbacks, identity) }),
    close: async () => {
      await lock.close?.();
      await factory.close?.();
    },
  };
}

/** Runs a backend call, turning its ConfigError into a ConfigValidationError that says where the value came from. */
async function withFields<T>(loaded: LoadedConfig | undefined, section: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = topLevelField(error.field) ?? (section === '' ? error.field : `${section}.${error.field}`);
    const message = error.message.startsWith(`${error.field}: `) ? error.message.slice(error.field.length + 2) : error.message;
    const source: ConfigSource | undefined = loaded?.sourceOf(field);
    throw new ConfigValidationError([{ field, message, source }]);
  }
}

/** Lock-level fields a backend may name that are top-level configuration fields. */
function topLevelField(field: string): string | undefined {
  if (field === 'name' || field === 'lockName' || field === 'leaderElectionID') return 'leaderElectionID';
  if (field === 'identity' || field === 'namespace' || field === 'backend') return field;
  return undefined;
}

export interface CreateElectorOptions extends OpenLockOptions {
  callbacks: LeaderCallbacks;
  /** A lock of your own instead of the configured backend (controller-runtime's custom resource lock). */
  lock?: ResourceLock;
  metrics?: ElectorMetrics;
  onError?: (error: unknown) => void;
  /** Overrides the configuration's `gracePeriod` as the elector's `shutdownGracePeriod`. */
  shutdownGracePeriodMs?: number;
}

/** An elector built from the configuration, with the lock it campaigns on. */
export interface BatonElector {
  readonly elector: LeaderElector;
  readonly lock: ResourceLock;
  readonly identity: string;
  /** Closes the lock's connections. Call it after `elector.run()` has resolved. */
  close(): Promise<void>;
}

/**
 * Builds a {@link LeaderElector} from the configuration: the backend it names, the timings,
 * identity and `releaseOnCancel`. The same application code runs on any backend:
 *
 * ```ts
 * const { elector, close } = await createElector(await loadConfig({ file: 'baton.yaml' }), { callbacks });
 * await elector.run(signal);
 * await close();
 * ```
 * @throws ConfigValidationError for a configuration the backend or the elector rejects.
 */
export async function createElector(configLike: ConfigLike, options: CreateElectorOptions): Promise<BatonElector> {
  const { config, loaded } = unwrap(configLike);
  const opened: OpenedLock = options.lock
    ? { lock: options.lock, identity: options.lock.identity, close: async () => {} }
    : await openLock(configLike, options);
  try {
    const elector = await withFields(
      loaded,
      '',
      () =>
        new LeaderElector({
          lock: opened.lock,
          callbacks: opened.decorate?.(options.callbacks) ?? options.callbacks,
          leaseDuration: config.leaseDuration,
          renewDeadline: config.renewDeadline,
          retryPeriod: config.retryPeriod,
          releaseOnCancel: config.releaseOnCancel,
          giveUpAfter: config.giveUpAfter,
          shutdownGracePeriod: options.shutdownGracePeriodMs ?? config.gracePeriod,
          watch: config.watch,
          name: config.leaderElectionID,
          logger: options.logger,
          metrics: options.metrics,
          onError: options.onError,
        }),
    );
    return { elector, lock: opened.lock, identity: opened.identity, close: () => opened.close() };
  } catch (error) {
    await opened.close();
    throw error;
  }
}
