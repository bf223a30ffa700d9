import type { ResumedStale, Term } from './checker-terms.ts';
import type { CandidateEvent } from './history.ts';

/**
 * What leaders woken from SIGSTOP did after their successor had begun, by how they write.
 * A guarded leader checks `term.assertLeading()` before each write, so it must send none —
 * its check refuses the first one instead (`refusedByGuard`). An unguarded one (the fencing
 * probe) sends until its overdue timers end the term; the fence must refuse those.
 */
export interface WritesAfterResumedPause {
  guarded: { leaders: number; sent: number; refusedByGuard: number };
  unguarded: { leaders: number; sent: number };
}

export function writesAfterResumedPause(
  candidates: readonly CandidateEvent[],
  terms: readonly Term[],
  resumedStale: readonly ResumedStale[],
  toleranceMs: number,
): WritesAfterResumedPause {
  const counts: WritesAfterResumedPause = { guarded: { leaders: 0, sent: 0, refusedByGuard: 0 }, unguarded: { leaders: 0, sent: 0 } };
  // A leader paused across several successions is one stale leader: count from the first successor.
  const firstSuccession = new Map<string, number>();
  for (const r of resumedStale) {
    const key = `${r.pid}/${r.token}`;
    firstSuccession.set(key, Math.min(firstSuccession.get(key) ?? Number.POSITIVE_INFINITY, r.successorStart));
  }
  for (const [key, successorStart] of firstSuccession) {
    const [pid, token] = key.split('/').map(Number) as [number, number];
    const mode = terms.find((t) => t.pid === pid && t.token === token)?.mode;
    const after = candidates.filter((e) => e.pid === pid && 'token' in e && e.token === token && e.t > successorStart + toleranceMs);
    const sent = after.filter((e) => e.ev === 'send').length;
    if (mode === 'guarded') {
      counts.guarded.leaders++;
      counts.guarded.sent += sent;
      counts.guarded.refusedByGuard += after.filter((e) => e.ev === 'guard').length;
    } else {
      counts.unguarded.leaders++;
      counts.unguarded.sent += sent;
    }
  }
  return counts;
}
