/**
 * `socketTimeout` for the command connection baton opens: a connection that owes replies and
 * has heard nothing for `timeoutMs` is dropped (its socket destroyed, as ioredis'
 * `socketTimeout` does), so the reconnect loop replaces a silently dead one (no RST, no FIN).
 *
 * ioredis' own option arms a timer and a `data` listener for each command sent while none is
 * armed — on an uncontended lock, for every command. This one costs a counter and a clock
 * read per command and reply, and one timer per `timeoutMs` while replies are owed. Like
 * ioredis' option it runs in real time, not on baton's clock: a fake clock advanced over a
 * slow call in a test must not drop a live connection.
 */
export class ReplyWatchdog {
  private readonly timeoutMs: number;
  private readonly onSilent: (silentMs: number) => void;
  /** Commands sent whose reply (or rejection) has not come back. */
  private owed = 0;
  /** When the connection last answered, or when replies started being owed. */
  private lastHeard = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number, onSilent: (silentMs: number) => void) {
    this.timeoutMs = timeoutMs;
    this.onSilent = onSilent;
  }

  /** A command was written to the connection. */
  sent(): void {
    if (this.owed++ === 0) this.lastHeard = performance.now();
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  /** A command sent earlier was answered (or failed with the connection). */
  answered(): void {
    if (this.owed > 0) this.owed--;
    this.lastHeard = performance.now();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref?.();
  }

  private check(): void {
    this.timer = undefined;
    if (this.owed === 0) return;
    const silentMs = performance.now() - this.lastHeard;
    if (silentMs < this.timeoutMs) {
      this.arm(this.timeoutMs - silentMs);
      return;
    }
    // The replies still owed are rejected when the socket goes; the count starts again.
    this.owed = 0;
    this.onSilent(silentMs);
  }
}
