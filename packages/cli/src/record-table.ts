import type { LockSnapshot } from '@baton/core';

/** A human duration as kubectl prints ages: `850ms`, `3.2s`, `5m10s`, `2h3m`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '<unknown>';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 10_000) return `${sign}${(abs / 1000).toFixed(1)}s`;
  if (abs < 60_000) return `${sign}${Math.round(abs / 1000)}s`;
  const minutes = Math.floor(abs / 60_000);
  if (minutes < 60) return `${sign}${minutes}m${Math.floor((abs % 60_000) / 1000)}s`;
  return `${sign}${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/** `HH:MM:SS.mmm` of an epoch-ms time, in local time. */
export function clockTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  /** Minimum width. */
  readonly width?: number;
  readonly align?: 'left' | 'right';
}

/** Fixed-width rows, kubectl style: upper-case headers, columns three spaces apart. */
export class TextTable<Row> {
  private readonly columns: readonly Column<Row>[];
  private readonly widths: number[];

  constructor(columns: readonly Column<Row>[]) {
    this.columns = columns;
    this.widths = columns.map((c) => Math.max(c.header.length, c.width ?? 0));
  }

  header(): string {
    return this.line(this.columns.map((c) => c.header));
  }

  row(row: Row): string {
    return this.line(this.columns.map((c) => c.value(row)));
  }

  private line(cells: string[]): string {
    return cells
      .map((cell, i) => {
        this.widths[i] = Math.max(this.widths[i]!, cell.length);
        return this.columns[i]!.align === 'right' ? cell.padStart(this.widths[i]!) : cell.padEnd(this.widths[i]!);
      })
      .join('   ')
      .trimEnd();
  }
}

/** A lock's state at one moment, for `baton status` and the demo. */
export interface LockRow {
  readonly name: string;
  readonly snapshot: LockSnapshot | null;
  /** When it was read (epoch ms). */
  readonly at: number;
}

/** The columns of `baton status`: like `kubectl get lease`, with the record's other fields. */
export const LOCK_COLUMNS: readonly Column<LockRow>[] = [
  { header: 'NAME', value: (r) => r.name, width: 12 },
  { header: 'HOLDER', value: (r) => holderOf(r.snapshot), width: 16 },
  { header: 'TRANSITIONS', value: (r) => (r.snapshot ? String(r.snapshot.record.leaderTransitions) : '-'), align: 'right' },
  { header: 'TOKEN', value: (r) => (r.snapshot ? String(r.snapshot.record.fencingToken) : '-'), align: 'right' },
  { header: 'LEASE', value: (r) => (r.snapshot ? formatAge(r.snapshot.record.leaseDurationMs) : '-'), align: 'right' },
  { header: 'ACQUIRED', value: (r) => (r.snapshot ? `${formatAge(r.at - r.snapshot.record.acquireTime)} ago` : '-'), width: 10 },
  { header: 'RENEWED', value: (r) => (r.snapshot ? clockTime(r.snapshot.record.renewTime) : '-'), width: 12 },
];

/** The holder column: the identity, `<released>`, or `<none>` when there is no record. */
export function holderOf(snapshot: LockSnapshot | null): string {
  if (snapshot === null) return '<none>';
  return snapshot.record.holderIdentity === '' ? '<released>' : snapshot.record.holderIdentity;
}

/** The JSON form of a lock's state (`baton status -o json`): times as ISO strings. */
export function lockJson(row: LockRow, lock: string): Record<string, unknown> {
  const record = row.snapshot?.record;
  return {
    name: row.name,
    lock,
    found: record !== undefined,
    ...(record && {
      holderIdentity: record.holderIdentity,
      leaseDurationMs: record.leaseDurationMs,
      acquireTime: new Date(record.acquireTime).toISOString(),
      renewTime: new Date(record.renewTime).toISOString(),
      leaderTransitions: record.leaderTransitions,
      fencingToken: record.fencingToken,
      version: row.snapshot!.version,
    }),
    observedAt: new Date(row.at).toISOString(),
  };
}
