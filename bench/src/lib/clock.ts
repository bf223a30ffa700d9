/**
 * This process's timestamp: `performance.timeOrigin + performance.now()`, sub-millisecond and
 * monotonic. Every process on the machine reads the same monotonic clock, but `timeOrigin` is
 * taken from the wall clock when the process starts, so two processes' stamps can differ by a
 * constant offset; the harness measures it per candidate ({@link measureClockOffset}).
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms`, or at once (resolving, not rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Polls `predicate` every `everyMs` until it holds. @throws after `timeoutMs`, naming `what`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs: number, everyMs = 10): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!predicate()) {
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Measures this process's offset to a peer's clock served at `url` (GET → `{ t }`): of
 * `samples` round trips it keeps the shortest, whose midpoint is the best estimate; the
 * uncertainty is half that round trip. Peer time = own time + offsetMs.
 *
 * A round trip that outlasts `timeoutMs` is dropped and taken again, up to `maxTimeouts` in
 * all: the harness may SIGSTOP a candidate while it measures (the timeout then counts the
 * pause, and such a sample would be useless anyway) — in a release run a candidate paused for
 * 5.3 s during its start-up measurement crashed on the first timeout.
 * @throws the last timeout's error once `maxTimeouts` round trips timed out.
 */
export async function measureClockOffset(
  url: string,
  samples = 9,
  options: { timeoutMs?: number; maxTimeouts?: number } = {},
): Promise<{ offsetMs: number; uncertaintyMs: number; samples: number }> {
  const { timeoutMs = 5_000, maxTimeouts = 5 } = options;
  let best: { offsetMs: number; uncertaintyMs: number } | undefined;
  let timeouts = 0;
  for (let i = 0; i < samples; ) {
    const sent = now();
    let t: number;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      ({ t } = (await response.json()) as { t: number });
    } catch (error) {
      if (!(error instanceof DOMException && error.name === 'TimeoutError') || ++timeouts >= maxTimeouts) throw error;
      continue;
    }
    const received = now();
    const half = (received - sent) / 2;
    if (!best || half < best.uncertaintyMs) best = { offsetMs: t - (sent + half), uncertaintyMs: half };
    i++;
  }
  return { ...best!, samples };
}
