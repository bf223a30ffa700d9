import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { parseDuration, type Duration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { JITTER_FACTOR } from './jitter.ts';
import type { LeaderTerm } from './leader-term.ts';
import type { Logger } from './logger.ts';
import { silentLogger } from './logger.ts';
import type { ElectorMetrics } from './metrics.ts';
import type { ResourceLock } from './resource-lock.ts';

export interface LeaderCallbacks {
  /**
   * Runs when this elector becomes leader. It may return a promise: on a graceful stop the
   * elector waits for it (up to `shutdownGracePeriod`) before releasing the lease.
   */
  onStartedLeading(term: LeaderTerm): void | Promise<void>;
  /** Runs when a term ends, whether lost or given up. */
  onStoppedLeading?(): void;
  /** Runs once each time the observed holder changes to a new identity (this one included). */
  onNewLeader?(identity: string): void;
}

/** What a {@link LeaderElector} is built from. Durations are ms or strings like `"15s"`. */
export interface LeaderElectorConfig {
  lock: ResourceLock;
  callbacks: LeaderCallbacks;
  /** How long a lease lasts after the holder's last renewal, for everyone else. Default 15s. */
  leaseDuration?: Duration;
  /** The leader steps down when it has not renewed for this long. Default 10s. */
  renewDeadline?: Duration;
  /** How often candidates retry and the leader renews. Default 2s. */
  retryPeriod?: Duration;
  /** Clear the holder on a graceful stop so a follower takes over at once. Default true. */
  releaseOnCancel?: boolean;
  /** How long a graceful stop waits for `onStartedLeading`'s promise. Default: renewDeadline. */
  shutdownGracePeriod?: Duration;
  /** Use the lock's `watch` when it has one. `false` gives client-go's pure polling. Default true. */
  watch?: boolean;
  /** Name for logs and metrics. Default: the lock's `describe()`. */
  name?: string;
  logger?: Logger;
  metrics?: ElectorMetrics;
  /** Errors the elector survived (backend down, corrupt record, a callback that threw). */
  onError?: (error: unknown) => void;
  /**
   * Stop campaigning when every acquisition attempt has failed with a permanent error
   * (`isPermanentError`: wrong credentials, a missing permission, database or namespace, a
   * record that is not baton's) for this long. `run()` then resolves and
   * {@link LeaderElector.gaveUp} holds the error (code `GAVE_UP`, `cause`: the last failure).
   * Default: never — a library elector keeps retrying, since someone may fix the cause.
   */
  giveUpAfter?: Duration;
  /** For tests: a fake clock. */
  clock?: Clock;
  /** For tests: the source of jitter, returning [0, 1). */
  random?: () => number;
}

export const DEFAULT_TIMINGS = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

/** The three durations every lease runs on, in milliseconds. */
export interface LeaseTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * Parses and checks `leaseDuration > renewDeadline > 1.2 × retryPeriod`, defaults filled in.
 * @throws ConfigError naming the offending field.
 */
export function resolveTimings(config: { leaseDuration?: Duration; renewDeadline?: Duration; retryPeriod?: Duration }): LeaseTimings {
  const leaseDurationMs = parseDuration(config.leaseDuration ?? DEFAULT_TIMINGS.leaseDurationMs, 'leaseDuration');
  const renewDeadlineMs = parseDuration(config.renewDeadline ?? DEFAULT_TIMINGS.renewDeadlineMs, 'renewDeadline');
  const retryPeriodMs = parseDuration(config.retryPeriod ?? DEFAULT_TIMINGS.retryPeriodMs, 'retryPeriod');
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new ConfigError('leaseDuration', `must be greater than renewDeadline (${leaseDurationMs} ms <= ${renewDeadlineMs} ms)`);
  }
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) {
    throw new ConfigError(
      'renewDeadline',
      `must be greater than ${JITTER_FACTOR} × retryPeriod (${renewDeadlineMs} ms <= ${JITTER_FACTOR * retryPeriodMs} ms)`,
    );
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

/** A validated config with every default filled in and durations in milliseconds. */
export interface ResolvedElectorConfig {
  lock: ResourceLock;
  callbacks: LeaderCallbacks;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  releaseOnCancel: boolean;
  shutdownGracePeriodMs: number;
  watch: boolean;
  name: string;
  logger: Logger;
  metrics: ElectorMetrics;
  onError: (error: unknown) => void;
  giveUpAfterMs: number | undefined;
  clock: Clock;
  random: () => number;
}

/**
 * Validates the whole config up front, so a mistake fails at construction with the field
 * named, not minutes later during an election.
 * @throws ConfigError
 */
export function resolveElectorConfig(config: LeaderElectorConfig): ResolvedElectorConfig {
  if (typeof config !== 'object' || config === null) throw new ConfigError('config', 'expected an object');
  const { lock, callbacks } = config;
  if (typeof lock !== 'object' || lock === null) throw new ConfigError('lock', 'is required');
  for (const method of ['get', 'create', 'update', 'describe'] as const) {
    if (typeof lock[method] !== 'function') throw new ConfigError('lock', `does not implement ResourceLock (no ${method}())`);
  }
  if (typeof lock.identity !== 'string' || lock.identity === '') {
    throw new ConfigError('lock.identity', 'must be a non-empty string');
  }
  if (typeof callbacks !== 'object' || callbacks === null) throw new ConfigError('callbacks', 'is required');
  if (typeof callbacks.onStartedLeading !== 'function') throw new ConfigError('callbacks.onStartedLeading', 'must be a function');
  for (const name of ['onStoppedLeading', 'onNewLeader'] as const) {
    if (callbacks[name] !== undefined && typeof callbacks[name] !== 'function') {
      throw new ConfigError(`callbacks.${name}`, 'must be a function');
    }
  }

  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = resolveTimings(config);
  const shutdownGracePeriodMs =
    config.shutdownGracePeriod === undefined ? renewDeadlineMs : parseDuration(config.shutdownGracePeriod, 'shutdownGracePeriod');

  for (const flag of ['releaseOnCancel', 'watch'] as const) {
    if (config[flag] !== undefined && typeof config[flag] !== 'boolean') throw new ConfigError(flag, 'must be a boolean');
  }
  if (config.onError !== undefined && typeof config.onError !== 'function') throw new ConfigError('onError', 'must be a function');

  return {
    lock,
    callbacks,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    releaseOnCancel: config.releaseOnCancel ?? true,
    shutdownGracePeriodMs,
    watch: config.watch ?? true,
    name: config.name ?? lock.describe(),
    logger: config.logger ?? silentLogger,
    metrics: config.metrics ?? {},
    onError: config.onError ?? (() => {}),
    giveUpAfterMs: config.giveUpAfter === undefined ? undefined : parseDuration(config.giveUpAfter, 'giveUpAfter'),
    clock: config.clock ?? systemClock,
    random: config.random ?? Math.random,
  };
}
