import type { TimerHandle } from '@baton/core';

/**
 * Lets a timer of the system clock not keep the process alive (a bound on a call or on a
 * close must never be what keeps a program running). Other clocks' handles are left alone.
 */
export function unrefTimer(handle: TimerHandle): TimerHandle {
  (handle as { unref?: () => unknown }).unref?.();
  return handle;
}
