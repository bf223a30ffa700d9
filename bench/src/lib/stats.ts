/** Latency summary in milliseconds. Percentiles are nearest-rank. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(sorted.length === 0 ? Number.NaN : sum / sorted.length),
  };
}

/** Rounds to 3 decimals (µs resolution for ms figures), keeping JSON readable. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Fewer samples than this and a "p99" is just the maximum: it is labelled as such. */
export const MIN_SAMPLES_FOR_P99 = 100;

/**
 * The tail figure a summary supports: its p99 from at least {@link MIN_SAMPLES_FOR_P99}
 * samples, otherwise the maximum, labelled "max of n" (with fewer than 100 samples the
 * nearest-rank p99 is the maximum anyway, and calling it p99 overstates what was measured).
 */
export function tail(summary: Summary): { label: string; value: number } {
  return summary.n >= MIN_SAMPLES_FOR_P99 ? { label: 'p99', value: summary.p99 } : { label: `max of ${summary.n}`, value: summary.max };
}
