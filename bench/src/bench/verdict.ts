// One line of the bench's targets table.

export interface Verdict {
  figure: string;
  backend: string;
  target: string;
  measured: string;
  met: boolean;
}

/** Milliseconds with as many digits as they deserve. */
export const ms = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : 'n/a');
