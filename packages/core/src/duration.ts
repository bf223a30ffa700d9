import { ConfigError } from './errors.ts';

/**
 * A span of time: a number of milliseconds, or a string such as `"15s"`, `"500ms"`,
 * `"1m30s"` or `"1.5s"` (units `ms`, `s`, `m`, `h`).
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/**
 * Converts a {@link Duration} to whole milliseconds.
 * @param field - named in the error, so a bad config value points at its key.
 * @throws ConfigError when the value is not a finite, positive duration.
 */
export function parseDuration(value: unknown, field: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    PART.lastIndex = 0;
    ms = 0;
    let matched = 0;
    for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
      ms += Number(m[1]) * UNIT_MS[m[2]!]!;
      matched = PART.lastIndex;
    }
    if (text === '' || matched !== text.length) {
      throw new ConfigError(field, `"${value}" is not a duration (examples: "15s", "500ms", "1m30s", or milliseconds as a number)`);
    }
  } else {
    throw new ConfigError(field, `expected a duration (milliseconds or a string like "15s"), got ${typeof value}`);
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ConfigError(field, `must be a positive duration, got ${String(value)}`);
  }
  return Math.round(ms);
}
