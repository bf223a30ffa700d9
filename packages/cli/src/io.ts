/**
 * What the `baton` command talks to: its output streams, environment and stop signal. In a
 * module of its own so the commands can take it without importing the command line itself.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (the demo then updates its table in place). */
  stdoutIsTTY?: boolean;
  /** Aborted when baton receives SIGTERM or SIGINT. */
  signal: AbortSignal;
}
