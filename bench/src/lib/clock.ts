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
 */
export async function measureClockOffset(url: string, samples = 9): Promise<{ offsetMs: number; uncertaintyMs: number; samples: number }> {
  let best: { offsetMs: number; uncertaintyMs: number } | undefined;
  for (let i = 0; i < samples; i++) {
    const sent = now();
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const { t } = (await response.json()) as { t: number };
    const received = now();
    const half = (received - sent) / 2;
    if (!best || half < best.uncertaintyMs) best = { offsetMs: t - (sent + half), uncertaintyMs: half };
  }
  return { ...best!, samples };
}
