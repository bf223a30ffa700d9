/**
 * An abort signal made only when someone asks for it. A held lock that is released without
 * its signal ever being read then costs no AbortController and no Error (whose stack trace
 * is the dearest part of an uncontended acquire and release).
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private reason: (() => unknown) | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason());
    }
    return this.controller.signal;
  }

  /** True once {@link LazyAbort.abort} was called, without making the signal. */
  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** Aborts once; `reason` is built only if the signal is (or gets) read. */
  abort(reason: () => unknown): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason());
  }
}
