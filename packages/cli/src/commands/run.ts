import type { Logger } from '@baton/core';
import type { Container } from '@baton/runtime';
import { runCommand } from '../child.ts';
import { Manager, type LoadedConfig } from '@baton/runtime';

export interface RunOptions {
  loaded: LoadedConfig;
  /** The command and its arguments. */
  command: readonly string[];
  logger: Logger;
  container?: Container;
  /** Aborted on SIGTERM/SIGINT by the CLI. */
  signal: AbortSignal;
}

/** Extra time the elector waits, beyond the command's grace period, for it to be reaped. */
const REAP_MARGIN_MS = 1_000;

/**
 * `baton run`: campaigns and runs the command only while this replica leads.
 *
 * - Elected: the command starts (environment: `BATON_IDENTITY`, `BATON_LEADER_ELECTION_ID`,
 *   `BATON_FENCING_TOKEN`).
 * - Leadership lost: SIGTERM, SIGKILL after `gracePeriod`; it starts again on re-election.
 * - baton gets SIGTERM or SIGINT: the command is stopped the same way, then the lease is
 *   released, and baton exits with the command's code.
 * - The command exits on its own: the lease is released and baton exits with its code.
 * - Signals go to the command's process group; a watchdog process stops it if baton dies,
 *   and when renewDeadline has passed since baton's last successful renewal even if baton is
 *   paused and cannot act (see `watchdog.ts`).
 *
 * @returns the exit code (see the README's table).
 */
export async function runWhileLeader(options: RunOptions): Promise<number> {
  const { config } = options.loaded;
  const { logger } = options;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  options.signal.addEventListener('abort', onSignal, { once: true });
  if (options.signal.aborted) stop.abort();

  const margin = config.leaseDuration - config.renewDeadline;
  if (config.leaderElection && config.gracePeriod > margin) {
    logger.warn(
      { gracePeriodMs: config.gracePeriod, marginMs: margin },
      'gracePeriod exceeds leaseDuration − renewDeadline: after a loss of leadership the old command may still run when the next leader starts',
    );
  }
  /** The code of the run that ended baton: stopped by baton's own stop, or ended on its own. */
  let exitCode: number | undefined;
  const manager = new Manager({
    config: options.loaded,
    container: options.container,
    logger,
    shutdownGracePeriodMs: config.gracePeriod + REAP_MARGIN_MS,
    runnables: [
      {
        name: 'command',
        needLeaderElection: true,
        start: async (signal, context) => {
          const env: NodeJS.ProcessEnv = {
            ...process.env,
            BATON_IDENTITY: context.identity,
            BATON_LEADER_ELECTION_ID: config.leaderElectionID,
          };
          if (context.fencingToken !== undefined) env.BATON_FENCING_TOKEN = String(context.fencingToken);
          const onLoss = (): void => {
            if (!stop.signal.aborted) logger.warn({ reason: describeReason(signal.reason) }, 'leadership lost: stopping the command');
          };
          signal.addEventListener('abort', onLoss, { once: true });
          if (context.leaseBoundMs !== undefined && context.leaseBoundMs < config.renewDeadline + MIN_STOP_WINDOW_MS) {
            logger.warn(
              { leaseBoundMs: context.leaseBoundMs, renewDeadlineMs: config.renewDeadline },
              'the backend frees a silent holder\'s lock too soon after renewDeadline for the watchdog to stop the command in between: raise sessionTimeout (postgres) or session.ttl (etcd)',
            );
          }
          const lease = context.validForMs && { validForMs: context.validForMs, stopWithinMs: stopWithinMs(config, context.leaseBoundMs) };
          let result = await runCommand({ command: options.command, signal, gracePeriodMs: config.gracePeriod, env, logger, lease });
          // The watchdog stopped the command at the lease deadline while this term has not ended.
          while (result.lapsed && !signal.aborted) {
            if ((context.validForMs?.() ?? 0) === 0) {
              // The term lapsed (a lapsed lease is never renewed): the elector's own timer ends it
              // any moment now. Wait for that; baton then goes on campaigning.
              await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
              break;
            }
            // The term is still valid: the renewed deadline reached the watchdog too late (baton's
            // event loop was starved). Leadership holds, so the command runs again.
            logger.warn({}, 'the watchdog stopped the command but the lease was renewed in time: starting it again');
            result = await runCommand({ command: options.command, signal, gracePeriodMs: config.gracePeriod, env, logger, lease });
          }
          signal.removeEventListener('abort', onLoss);
          if (result.lapsed) return;
          if (!signal.aborted) {
            exitCode = result.exitCode;
            logger.info({ exitCode }, 'the command exited on its own: releasing the lease and exiting');
            stop.abort();
          } else if (stop.signal.aborted) {
            // Stopped because baton is stopping: its code is baton's. (A run ended by a loss of
            // leadership is not: baton goes on campaigning.)
            exitCode = result.exitCode;
          }
        },
      },
    ],
  });
  try {
    await manager.start(stop.signal);
  } finally {
    options.signal.removeEventListener('abort', onSignal);
  }
  return exitCode ?? 0;
}

/** Below this between renewDeadline and the lease bound, a paused baton's command may outlive its lock. */
const MIN_STOP_WINDOW_MS = 200;

/**
 * How soon after the lease deadline a command stopped by the watchdog must be gone: within
 * half the safety margin (leaseBound − renewDeadline), and never later than gracePeriod —
 * the other half absorbs signal delivery and timer slack, so the command is dead before any
 * other replica may take the lease. `leaseBoundMs` is leaseDuration, or less where the
 * backend frees a silent holder's lock sooner (a PostgreSQL session the server closed).
 */
export function stopWithinMs(config: { leaseDuration: number; renewDeadline: number; gracePeriod: number }, leaseBoundMs = config.leaseDuration): number {
  const bound = Math.min(config.leaseDuration, leaseBoundMs);
  return Math.max(0, Math.min(config.gracePeriod, Math.floor((bound - config.renewDeadline) / 2)));
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
