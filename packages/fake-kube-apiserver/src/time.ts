// metav1.Time (RFC 3339, seconds) and metav1.MicroTime (RFC 3339, exactly six fractional digits),
// parsed as strictly as Go's time.Parse does with the layouts apimachinery uses.

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function formatDate(d: Date): string {
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** metav1.Time as the API serves it: `2006-01-02T15:04:05Z`. */
export function formatTime(d: Date): string {
  return `${formatDate(d)}Z`;
}

/** metav1.MicroTime as the API serves it: `2006-01-02T15:04:05.000000Z`. */
export function formatMicroTime(d: Date, extraMicros = 0): string {
  const micros = d.getUTCMilliseconds() * 1000 + extraMicros;
  return `${formatDate(d)}.${pad(micros, 6)}Z`;
}

/** Now as MicroTime, with real microseconds from the high-resolution clock. */
export function nowMicroTime(): string {
  const d = new Date();
  const extra = Math.floor((performance.now() * 1000) % 1000);
  return formatMicroTime(d, extra);
}

export function nowTime(): string {
  return formatTime(new Date());
}

interface Parsed {
  /** Milliseconds since the epoch, UTC. */
  ms: number;
  /** Microseconds within the millisecond (0..999). */
  micros: number;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;

function parseZone(rest: string): { offsetMin: number; ok: boolean } {
  if (rest === 'Z') return { offsetMin: 0, ok: true };
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(rest);
  if (!m) return { offsetMin: 0, ok: false };
  const sign = m[1] === '-' ? -1 : 1;
  return { offsetMin: sign * (Number(m[2]) * 60 + Number(m[3])), ok: true };
}

function parseBase(value: string, layout: string): { base: number; rest: string } {
  const m = DATE_TIME.exec(value);
  if (!m) throw new Error(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(value)} as "2006"`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const base = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(base);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new Error(`parsing time ${JSON.stringify(value)}: day out of range`);
  }
  return { base, rest: value.slice(m[0].length) };
}

/**
 * Parses a MicroTime exactly as `time.Parse(RFC3339Micro, s)` does: six fractional digits, no
 * more, no fewer. Throws the Go error text on failure.
 */
export function parseMicroTime(value: string): Parsed {
  const { base, rest } = parseBase(value, RFC3339_MICRO);
  const frac = /^\.(\d{6})/.exec(rest);
  if (!frac) {
    throw new Error(
      `parsing time ${JSON.stringify(value)} as ${JSON.stringify(RFC3339_MICRO)}: cannot parse ${JSON.stringify(rest)} as ".000000"`,
    );
  }
  const zone = parseZone(rest.slice(7));
  if (!zone.ok) {
    throw new Error(
      `parsing time ${JSON.stringify(value)} as ${JSON.stringify(RFC3339_MICRO)}: cannot parse ${JSON.stringify(rest.slice(7))} as "Z07:00"`,
    );
  }
  const all = Number(frac[1]);
  return { ms: base + Math.floor(all / 1000) - zone.offsetMin * 60_000, micros: all % 1000 };
}

/** Parses a metav1.Time as `time.Parse(time.RFC3339, s)` does (fractional seconds accepted). */
export function parseTime(value: string): Parsed {
  const { base, rest } = parseBase(value, RFC3339);
  let r = rest;
  let ms = 0;
  const frac = /^[.,](\d+)/.exec(r);
  if (frac) {
    ms = Math.floor(Number(`0.${frac[1]}`) * 1000);
    r = r.slice(frac[0].length);
  }
  const zone = parseZone(r);
  if (!zone.ok) {
    throw new Error(
      `parsing time ${JSON.stringify(value)} as ${JSON.stringify(RFC3339)}: cannot parse ${JSON.stringify(r)} as "Z07:00"`,
    );
  }
  return { ms: base + ms - zone.offsetMin * 60_000, micros: 0 };
}

/** Canonical MicroTime text (UTC, six digits) of a valid MicroTime string. */
export function canonicalMicroTime(value: string): string {
  const p = parseMicroTime(value);
  return formatMicroTime(new Date(p.ms), p.micros);
}

/** Canonical metav1.Time text (UTC, whole seconds) of a valid RFC 3339 string. */
export function canonicalTime(value: string): string {
  const p = parseTime(value);
  return formatTime(new Date(p.ms));
}

/** Milliseconds since the epoch of a Time or MicroTime string, or NaN. */
export function timeMillis(value: unknown): number {
  if (typeof value !== 'string') return Number.NaN;
  return Date.parse(value);
}

/** kubectl's duration.HumanDuration, used in the AGE column of tables. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
