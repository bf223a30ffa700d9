// The checker rules for semaphores and reader-writer locks (issue 18), over the events
// primitive-candidate.ts records. Kept apart from checker.ts (the elector's rules).
//
// A hold's interval runs from its `hold` event to its last `act`: every one of those events
// was recorded right after a synchronous validity check passed, so it is a moment the process
// acted as a holder. The rules:
// - semaphore: at no moment more than `permits` intervals overlap;
// - reader-writer: no write interval overlaps any other interval (read or write);
// - tokens strictly increase in grant order: a hold *asked for* after another was granted has
//   a larger token (permits; writes). (Holds asked for concurrently are not ordered: each
//   process records its grant some time after the token was issued.) A read granted after a write's last act carries an epoch
//   at least that write's token.
// Timestamps are the machine's monotonic clock, read by different processes; `toleranceMs`
// absorbs the gap between an event and its record.

export interface PrimitiveEvent {
  src: 'primitive';
  t: number;
  pid: number;
  identity: string;
  ev: string;
  kind?: 'permit' | 'read' | 'write';
  token?: number;
  epoch?: number;
  /** On `hold`: when the acquisition was asked for. */
  asked?: number;
}

export interface HoldInterval {
  pid: number;
  kind: 'permit' | 'read' | 'write';
  token: number;
  epoch?: number;
  /** When the acquisition was asked for (defaults to the grant). */
  asked: number;
  start: number;
  end: number;
}

export interface PrimitiveVerdict {
  holds: number;
  /** Holds by kind (permit, read, write). */
  byKind: Record<string, number>;
  acts: number;
  maxConcurrent: number;
  maxConcurrentReads: number;
  violations: string[];
}

export function intervalsOf(events: readonly PrimitiveEvent[]): HoldInterval[] {
  const open = new Map<string, HoldInterval>();
  const done: HoldInterval[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (e.kind === undefined || e.token === undefined) continue;
    const key = `${e.pid}/${e.kind}/${e.token}`;
    if (e.ev === 'hold') {
      const interval: HoldInterval = { pid: e.pid, kind: e.kind, token: e.token, asked: e.asked ?? e.t, start: e.t, end: e.t, ...(e.epoch === undefined ? {} : { epoch: e.epoch }) };
      open.set(key, interval);
      done.push(interval);
    } else if (e.ev === 'act') {
      const interval = open.get(key);
      if (interval) interval.end = e.t;
    } else if (e.ev === 'end') {
      open.delete(key);
    }
  }
  return done;
}

export function checkPrimitives(events: readonly PrimitiveEvent[], mode: 'semaphore' | 'rw', permits: number, toleranceMs = 2): PrimitiveVerdict {
  const intervals = intervalsOf(events);
  const violations: string[] = [];
  const overlaps = (a: HoldInterval, b: HoldInterval): boolean => a.start < b.end - toleranceMs && b.start < a.end - toleranceMs;
  // Sweep: the most intervals alive at once (each start is where a maximum can begin).
  let maxConcurrent = 0;
  let maxConcurrentReads = 0;
  for (const a of intervals) {
    const alive = intervals.filter((b) => b.start <= a.start && a.start < b.end - toleranceMs);
    const together = alive.length + (alive.includes(a) ? 0 : 1);
    maxConcurrent = Math.max(maxConcurrent, together);
    if (a.kind === 'read') maxConcurrentReads = Math.max(maxConcurrentReads, alive.filter((b) => b.kind === 'read').length);
    if (mode === 'semaphore' && together > permits) {
      violations.push(`${together} permit holders at ${a.start.toFixed(1)} (permits ${permits}): tokens ${alive.map((b) => b.token).join(', ')}`);
    }
  }
  if (mode === 'rw') {
    for (const w of intervals.filter((i) => i.kind === 'write')) {
      for (const other of intervals) {
        if (other !== w && overlaps(w, other)) violations.push(`write ${w.token} (pid ${w.pid}) beside ${other.kind} ${other.token} (pid ${other.pid})`);
      }
    }
  }
  const ordered = intervals.filter((i) => i.kind !== 'read');
  for (const a of ordered) {
    for (const b of ordered) {
      if (b.asked > a.start + toleranceMs && b.token <= a.token) violations.push(`${b.kind} token ${b.token} asked for ${(b.asked - a.start).toFixed(1)} ms after ${a.kind} token ${a.token} was granted`);
    }
  }
  for (const r of intervals.filter((i) => i.kind === 'read')) {
    for (const w of intervals.filter((i) => i.kind === 'write')) {
      if (r.start > w.end + toleranceMs && (r.epoch ?? 0) < w.token) violations.push(`read epoch ${r.epoch} granted after write ${w.token}`);
    }
  }
  return {
    holds: intervals.length,
    byKind: intervals.reduce<Record<string, number>>((counts, i) => ({ ...counts, [i.kind]: (counts[i.kind] ?? 0) + 1 }), {}),
    acts: events.filter((e) => e.ev === 'act').length,
    maxConcurrent,
    maxConcurrentReads,
    violations: [...new Set(violations)].slice(0, 50),
  };
}
