import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '@baton/core';
import { deadlineFromNow, encodeDeadlineArg, type DeadlineMessage } from './lease-deadline.ts';
import type { WatchdogMessage } from './watchdog.ts';

const WATCHDOG = new URL(import.meta.url.endsWith('.ts') ? './watchdog.ts' : './watchdog.js', import.meta.url);

/** How a command ended. */
export interface CommandResult {
  /** The exit code baton reports: the command's, 128 + n when signal n killed it, 127/126 when it could not start. */
  readonly exitCode: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the command ended because baton stopped it. */
  readonly stopped: boolean;
  /**
   * True when the watchdog stopped it because the lease deadline passed (baton did not
   * renew in time): an end of leadership, not the command's own exit.
   */
  readonly lapsed?: boolean;
  /** Why it could not start, if it could not. */
  readonly error?: string;
  /** When the command and its group were gone (epoch ms), as the watchdog saw it. */
  readonly exitedAt?: number;
}

export interface RunCommandOptions {
  /** The command and its arguments. */
  command: readonly string[];
  /** Aborting it stops the command: SIGTERM, then SIGKILL after `gracePeriodMs`. */
  signal: AbortSignal;
  gracePeriodMs: number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /**
   * The leadership the command runs under: its remaining validity (core's
   * `LeaderTerm.validForMs`) and how soon after it runs out the command must be gone
   * (SIGTERM, SIGKILL at `stopWithinMs`). The watchdog keeps that deadline itself, so the
   * command stops on time even while baton is paused. Absent: no deadline (no election).
   */
  lease?: { validForMs: () => number; stopWithinMs: number };
}

/** How often baton hands the watchdog the renewed deadline (only sent when it moved). */
const DEADLINE_REPORT_MS = 50;

/**
 * Runs a command under a watchdog process (see `watchdog.ts`) so it never outlives baton.
 * Resolves when the command has exited; never rejects.
 */
export function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const logger = options.logger ?? silentLogger;
  const [command] = options.command;
  return new Promise((resolve) => {
    const { lease } = options;
    let sentDeadline = lease === undefined ? 0n : deadlineFromNow(lease.validForMs());
    const deadlineArg = lease === undefined ? '-' : encodeDeadlineArg(sentDeadline, lease.stopWithinMs);
    const watchdog = spawn(process.execPath, [fileURLToPath(WATCHDOG), String(options.gracePeriodMs), deadlineArg, ...options.command], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: options.env ?? process.env,
    });
    // Each renewal moves the deadline; a reading taken late (baton was busy) is still exact.
    const deadlineReports =
      lease &&
      setInterval(() => {
        const deadline = deadlineFromNow(lease.validForMs());
        if (deadline < sentDeadline + 1_000_000n || !watchdog.connected) return;
        sentDeadline = deadline;
        const message: DeadlineMessage = { type: 'deadline', deadlineNs: String(deadline) };
        watchdog.send(message, (error) => {
          if (error) logger.debug({ error: error.message }, 'could not hand the lease deadline to the watchdog');
        });
      }, DEADLINE_REPORT_MS);
    let childPid: number | undefined;
    let last: WatchdogMessage | undefined;
    let stopped = false;
    let lapsed = false;
    let killTimer: NodeJS.Timeout | undefined;

    const onAbort = (): void => {
      if (stopped) return;
      stopped = true;
      logger.info({ childPid, graceMs: options.gracePeriodMs }, 'stopping the command (SIGTERM)');
      watchdog.kill('SIGTERM');
      // The watchdog escalates to SIGKILL itself; this covers a watchdog that cannot.
      killTimer = setTimeout(() => {
        logger.warn({ childPid }, 'the command did not stop within the grace period: SIGKILL');
        if (childPid !== undefined) killQuietly(childPid);
        watchdog.kill('SIGKILL');
      }, options.gracePeriodMs + 500);
    };

    watchdog.on('message', (message: WatchdogMessage) => {
      if (message.type !== 'lapsed') last = message;
      if (message.type === 'started') {
        childPid = message.pid;
        logger.info({ childPid: message.pid, command: options.command.join(' ') }, 'command started');
      } else if (message.type === 'lapsed') {
        lapsed = true;
        logger.warn({ childPid }, 'leadership lapsed before baton could renew it (was baton paused?): the watchdog is stopping the command');
      }
    });
    watchdog.on('error', (error) => {
      // Only when the watchdog itself cannot start (process.execPath gone): report as not startable.
      last = { type: 'error', errorCode: (error as NodeJS.ErrnoException).code, message: error.message };
    });
    watchdog.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      clearInterval(deadlineReports);
      let result: CommandResult;
      if (last?.type === 'exit') {
        result = {
          exitCode: exitCodeOf(last.code ?? null, last.signal ?? null),
          code: last.code ?? null,
          signal: last.signal ?? null,
          stopped,
          ...(last.at !== undefined && { exitedAt: last.at }),
        };
      } else if (last?.type === 'error') {
        const exitCode = last.errorCode === 'ENOENT' ? 127 : 126;
        result = { exitCode, code: null, signal: null, stopped, error: `${command}: ${last.errorCode === 'ENOENT' ? 'command not found' : last.message}` };
      } else {
        result = { exitCode: exitCodeOf(code, signal), code, signal, stopped };
      }
      if (lapsed) result = { ...result, lapsed };
      if (result.error) logger.error({ command: options.command.join(' '), error: result.error }, 'command could not start');
      else {
        const exitedAt = result.exitedAt !== undefined ? { exitedAt: new Date(result.exitedAt).toISOString() } : {};
        logger.info({ childPid, code: result.code, signal: result.signal, exitCode: result.exitCode, stopped, ...exitedAt }, 'command exited');
      }
      resolve(result);
    });
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The shell's convention: the code, or 128 + the signal's number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}

/** SIGKILL to the command's process group (the watchdog made it a group leader), or to it alone. */
function killQuietly(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      return;
    } catch {
      // no such group (or already gone): try the process itself
    }
  }
}
