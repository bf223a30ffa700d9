import type { Intervals, Term } from './checker-terms.ts';
import type { CandidateEvent, HarnessEvent } from './history.ts';

/** Handovers away from one kind of sidecar loss: how many, and the narrowest gap between actors. */
export interface SidecarHandovers {
  count: number;
  /** The smallest (next actor's first write − the old command's last write), ms; null when none. */
  minGapMs: number | null;
}

/**
 * `baton run` candidates: their commands' terms, and each handover from a command to the next
 * actor, by what had happened to the command's baton process when the next term began —
 * SIGSTOPped (`pause`: the watchdog had to stop the command on its own), SIGKILLed (`kill`),
 * or anything else (a proxy fault, a backend restart, a lost renewal). The old command's last
 * write must come before the next actor's first: the gap is positive.
 */
export interface SidecarSummary {
  /** Commands that ran (one per term, or more when a term restarted its command). */
  commands: number;
  handovers: { pause: SidecarHandovers; kill: SidecarHandovers; other: SidecarHandovers };
}

export function sidecarSummary(
  candidates: readonly CandidateEvent[],
  harness: readonly HarnessEvent[],
  terms: readonly Term[],
  pauses: Map<number, Intervals>,
): SidecarSummary {
  const batonPid = new Map<string, number>();
  for (const e of harness) if (e.ev === 'spawn' && e.spawnId !== undefined) batonPid.set(e.spawnId, e.pid);
  const kills = new Map<number, number>();
  for (const e of harness) if (e.ev === 'kill') kills.set(e.pid, e.t);
  const sends = new Map<string, number[]>();
  for (const e of candidates) if (e.ev === 'send') (sends.get(`${e.pid}/${e.token}`) ?? sends.set(`${e.pid}/${e.token}`, []).get(`${e.pid}/${e.token}`)!).push(e.t);

  const empty = (): SidecarHandovers => ({ count: 0, minGapMs: null });
  const summary: SidecarSummary = { commands: 0, handovers: { pause: empty(), kill: empty(), other: empty() } };
  for (const a of terms) {
    if (a.mode !== 'sidecar') continue;
    summary.commands++;
    const next = terms.find((b) => b !== a && b.start >= a.start && !(b.host === a.host && b.token === a.token));
    if (!next) continue;
    const host = a.host === undefined ? undefined : batonPid.get(a.host);
    const killedAt = host === undefined ? undefined : kills.get(host);
    const cause =
      host !== undefined && (pauses.get(host) ?? []).some(([from, to]) => from <= next.start && next.start < to)
        ? 'pause'
        : killedAt !== undefined && killedAt >= a.start && killedAt <= next.start
          ? 'kill'
          : 'other';
    const lastOfA = sends.get(`${a.pid}/${a.token}`)?.at(-1) ?? a.end;
    const firstOfNext = sends.get(`${next.pid}/${next.token}`)?.[0] ?? next.start;
    const bucket = summary.handovers[cause];
    bucket.count++;
    const gap = firstOfNext - lastOfA;
    bucket.minGapMs = bucket.minGapMs === null ? gap : Math.min(bucket.minGapMs, gap);
  }
  return summary;
}
