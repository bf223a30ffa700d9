/**
 * The process between `baton run` and its command. It starts the command in a process group
 * of its own, reports its pid and exit status to baton over the IPC channel, and:
 *
 * - on SIGTERM from baton, sends SIGTERM to the command's whole group, then SIGKILL after the
 *   grace period — so `sh -c 'a | b'` and the children of the command stop too;
 * - when the command exits, stops what it left behind in its group the same way, so nothing
 *   of a leader-only command outlives its run;
 * - when baton is gone — even after `kill -9` of baton — stops the command the same way:
 *   Node cannot ask the kernel to signal a child when its parent dies, but the IPC channel
 *   closes then, and this process notices;
 * - when the lease deadline passes — renewDeadline since the start of baton's last successful
 *   renewal, which baton keeps sending (see `lease-deadline.ts`) — stops the command's group:
 *   SIGTERM, then SIGKILL after `stopWithinMs`. This holds while baton is paused or starved
 *   (SIGSTOP closes no channel), because the deadline is kept here, outside baton's event
 *   loop. baton passes `stopWithinMs` ≤ leaseDuration − renewDeadline, so the command is gone
 *   before any other replica may consider the lease expired.
 * - starts the command only under a deadline still ahead: when this process took longer to
 *   start than the lease had left (a loaded machine), it waits for baton's next renewed
 *   deadline instead of starting the command only to stop it at once — which, repeated for
 *   every start, kept a leader's command from ever running. A paused baton sends none, so
 *   the command is then never started.
 *
 * Usage (internal): node watchdog.ts <graceMs> <deadlineNs/stopWithinMs | -> <command> [args…]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { decodeDeadlineArg, msUntil, type DeadlineMessage } from './lease-deadline.ts';
import { livingInGroups } from './process-groups.ts';

export interface WatchdogMessage {
  /** `lapsed`: the lease deadline passed and the command is being stopped. */
  type: 'started' | 'exit' | 'error' | 'lapsed';
  pid?: number;
  code?: number | null;
  signal?: NodeJS.Signals | null;
  /** For `error`: the spawn error's code (`ENOENT`, `EACCES`) and message. */
  errorCode?: string;
  message?: string;
  /**
   * For `exit`: when the command's group became empty (epoch ms). baton may read the message
   * late — starved or paused — so the time of its own log line would overstate the run.
   */
  at?: number;
}

const [graceArg, deadlineArg, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
const initialDeadline = deadlineArg === '-' ? undefined : decodeDeadlineArg(deadlineArg ?? '');
if (command === undefined || !Number.isFinite(graceMs) || (deadlineArg !== '-' && initialDeadline === undefined)) {
  process.stderr.write('usage: watchdog.ts <graceMs> <deadlineNs/stopWithinMs | -> <command> [args…]\n');
  process.exit(2);
}

const ownGroup = process.platform !== 'win32';
const report = (message: WatchdogMessage, then?: () => void): void => {
  if (process.connected && process.send) process.send(message, undefined, {}, () => then?.());
  else then?.();
};

/** The command, once started (see {@link startCommand}). */
let child: ChildProcess | undefined;
let stopping = false;
let killTimer: NodeJS.Timeout | undefined;

/** Signals the command's group (or the command alone where groups do not exist). */
function signalCommand(signal: NodeJS.Signals): void {
  if (child === undefined) return;
  try {
    if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

/** Processes left in the command's group. Zombies do not count (on Linux, where we can tell). */
function groupSize(): number {
  if (!ownGroup || child?.pid === undefined) return 0;
  return livingInGroups([child.pid]);
}

function stop(withinMs = graceMs): void {
  if (stopping) return;
  stopping = true;
  // Not started yet: there is nothing to stop, and it will not start now.
  if (child === undefined) process.exit(0);
  signalCommand('SIGTERM');
  killTimer = setTimeout(() => signalCommand('SIGKILL'), withinMs);
}

/** The lease deadline: extended by baton's messages, kept by this process's own timer. */
let deadlineNs = initialDeadline?.deadlineNs;
let deadlineTimer: NodeJS.Timeout | undefined;
function armDeadline(): void {
  if (deadlineNs === undefined || stopping) return;
  clearTimeout(deadlineTimer);
  const leftMs = msUntil(deadlineNs);
  if (child === undefined) {
    // Only under a deadline still ahead; otherwise the next renewed one starts it (message below).
    if (leftMs > 0) startCommand();
    else return;
  }
  if (leftMs > 0) {
    // Timers may fire a little early: re-armed until the clock says the deadline has passed.
    deadlineTimer = setTimeout(armDeadline, Math.ceil(leftMs));
    return;
  }
  // A renewal may already wait in the IPC pipe: timers run before I/O in a turn of the loop, so
  // a watchdog that was slow to start (or starved) would otherwise lapse with a newer deadline
  // unread. One turn later those messages have been read; only then is the lapse real.
  if (!confirming) {
    confirming = true;
    setImmediate(() => {
      confirming = false;
      if (msUntil(deadlineNs!) > 0) armDeadline();
      else lapse();
    });
  }
}
let confirming = false;
function lapse(): void {
  if (stopping) return;
  report({ type: 'lapsed' });
  stop(Math.min(graceMs, initialDeadline!.stopWithinMs));
}
process.on('message', (message: DeadlineMessage) => {
  if (message?.type !== 'deadline') return;
  const next = BigInt(message.deadlineNs);
  if (deadlineNs !== undefined && next > deadlineNs) {
    deadlineNs = next;
    armDeadline();
  }
});

/** After the command exited: stop what it left in its group, within the grace period. */
function reapGroup(done: () => void): void {
  if (groupSize() === 0) {
    done();
    return;
  }
  stop();
  const check = setInterval(() => {
    if (groupSize() > 0) return;
    clearInterval(check);
    clearTimeout(killTimer);
    done();
  }, 20);
}

function startCommand(): void {
  const started = spawn(command!, args, { stdio: 'inherit', detached: ownGroup });
  child = started;
  started.on('spawn', () => report({ type: 'started', pid: started.pid }));
  started.on('error', (error: NodeJS.ErrnoException) => {
    report({ type: 'error', errorCode: error.code, message: error.message }, () => process.exit(error.code === 'ENOENT' ? 127 : 126));
  });
  started.on('exit', (code, signal) => {
    clearTimeout(deadlineTimer);
    reapGroup(() => report({ type: 'exit', code, signal, at: Date.now() }, () => process.exit(0)));
  });
}
if (deadlineNs === undefined) startCommand();
armDeadline();

process.on('SIGTERM', () => stop());
// baton answers a terminal's Ctrl-C with SIGTERM; this process only relays.
process.on('SIGINT', () => {});
process.on('disconnect', () => {
  if (child === undefined || (child.exitCode === null && child.signalCode === null)) stop();
});
