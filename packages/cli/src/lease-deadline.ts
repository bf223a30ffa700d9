/**
 * The lease deadline `baton run` shares with its watchdog process, so the command stops when
 * baton's leadership runs out even if baton itself cannot act (SIGSTOP, a starved event loop).
 *
 * Time base: `process.hrtime.bigint()`, which on Linux and macOS reads the system-wide
 * monotonic clock, the same in every process of the machine. baton reads it and the term's
 * remaining validity at the same instant, so a deadline means the same moment to both
 * processes however late the message arrives — a message delayed by a pause carries an
 * old, never a later, deadline.
 */

/** baton → watchdog: the term stays valid until `deadlineNs` unless renewed again. */
export interface DeadlineMessage {
  type: 'deadline';
  /** `process.hrtime.bigint()` at which the term lapses, as a decimal string. */
  deadlineNs: string;
}

/** The deadline `validForMs` from now, on the shared monotonic clock. */
export function deadlineFromNow(validForMs: number): bigint {
  return process.hrtime.bigint() + BigInt(Math.max(0, Math.floor(validForMs * 1e6)));
}

/** Milliseconds from now until `deadlineNs` (negative once passed). */
export function msUntil(deadlineNs: bigint): number {
  return Number(deadlineNs - process.hrtime.bigint()) / 1e6;
}

/** How the watchdog is told to keep a deadline: `<deadlineNs>/<stopWithinMs>` on its command line. */
export function encodeDeadlineArg(deadlineNs: bigint, stopWithinMs: number): string {
  return `${deadlineNs}/${Math.max(0, Math.floor(stopWithinMs))}`;
}

/** The inverse of {@link encodeDeadlineArg}; `-` means no deadline (no leader election). */
export function decodeDeadlineArg(arg: string): { deadlineNs: bigint; stopWithinMs: number } | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(arg);
  if (match === null) return undefined;
  return { deadlineNs: BigInt(match[1]!), stopWithinMs: Number(match[2]) };
}
