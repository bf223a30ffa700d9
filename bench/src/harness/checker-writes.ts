import type { Term, ResumedStale } from './checker-terms.ts';
import { fmt } from './checker-terms.ts';
import type { Violation } from './checker-types.ts';
import type { CandidateEvent, ResourceEvent } from './history.ts';

type SendEvent = Extract<CandidateEvent, { ev: 'send' }>;
type WriteEvent = Extract<CandidateEvent, { ev: 'write' }>;

export interface WriteCounts {
  accepted: number;
  /** Rejected by the resource's fencing. */
  rejected: number;
  /** Candidate writes that got no answer (resource unreachable, timed out, writer killed). */
  unanswered: number;
  /** Writes of resumed-stale leaders that reached the resource after their successor began. */
  fromResumedStale: { accepted: number; rejected: number };
}

const key = (pid: number, seq: number): string => `${pid}/${seq}`;

/**
 * Checks every write three ways: against the writer's term (sent inside it, never accepted
 * after a larger token began), against the writer's own records (each resource decision has a
 * `send` record and, when the writer lived to see it, the same outcome), and against the
 * resource's own rule (never a token below one already accepted).
 */
export function checkWrites(
  candidates: readonly CandidateEvent[],
  resource: readonly ResourceEvent[],
  terms: readonly Term[],
  resumedStale: ResumedStale[],
  toleranceMs: number,
  violations: Violation[],
): WriteCounts {
  const termOf = (pid: number, token: number): Term | undefined => terms.find((x) => x.pid === pid && x.token === token);
  const sends = new Map<string, SendEvent>();
  const outcomes = new Map<string, WriteEvent>();
  for (const e of candidates) {
    if (e.ev === 'send') sends.set(key(e.pid, e.seq), e);
    if (e.ev === 'write') outcomes.set(key(e.pid, e.seq), e);
  }

  // What the writers say they did.
  for (const send of sends.values()) {
    const term = termOf(send.pid, send.token);
    if (!term) {
      violations.push({ kind: 'write-without-term', t: send.t, message: `pid ${send.pid} sent write #${send.seq} with token ${send.token}, a term it never started` });
    } else if (send.t < term.start - toleranceMs || send.t > term.end + toleranceMs) {
      violations.push({
        kind: 'write-outside-term',
        t: send.t,
        message: `pid ${send.pid} sent write #${send.seq} (token ${send.token}) ${send.t < term.start ? `${fmt(term.start - send.t)} ms before its term began` : `${fmt(send.t - term.end)} ms after its term ended`}`,
      });
    }
  }

  // What the resource decided.
  const decided = new Map<string, ResourceEvent>();
  let highest = 0;
  for (const w of resource) {
    decided.set(key(w.pid, w.seq), w);
    const send = sends.get(key(w.pid, w.seq));
    if (!send || send.token !== w.token) {
      violations.push({ kind: 'write-unrecorded', t: w.t, message: `the resource got write #${w.seq} from pid ${w.pid} with token ${w.token}, which pid ${w.pid} never recorded sending` });
    } else if (w.t < send.t - toleranceMs) {
      violations.push({ kind: 'write-outside-term', t: w.t, message: `write #${w.seq} of pid ${w.pid} reached the resource ${fmt(send.t - w.t)} ms before it was sent` });
    }
    const stale = resumedStale.find((r) => r.pid === w.pid && r.token === w.token && w.t > r.successorStart + toleranceMs);
    if (stale) {
      if (w.accepted) stale.writesAccepted++;
      else stale.writesRejected++;
    }
    if (!w.accepted) continue;
    if (w.token < highest) {
      violations.push({ kind: 'stale-write-accepted', t: w.t, message: `the resource accepted token ${w.token} from pid ${w.pid} after accepting ${highest}` });
    }
    highest = Math.max(highest, w.token);
    if (!termOf(w.pid, w.token)) {
      violations.push({ kind: 'write-without-term', t: w.t, message: `the resource accepted a write by pid ${w.pid} with token ${w.token}, which matches no term in the history` });
    }
    const successor = terms.find((x) => x.token > w.token && x.start < w.t - toleranceMs);
    if (successor) {
      violations.push({
        kind: stale ? 'resumed-stale-write-accepted' : 'superseded-write-accepted',
        t: w.t,
        message:
          `the resource accepted write #${w.seq} of pid ${w.pid} (token ${w.token}) ${fmt(w.t - successor.start)} ms after term ${successor.token} of pid ${successor.pid} began` +
          (stale ? ' (a leader woken from SIGSTOP; fencing should have rejected it)' : ''),
      });
    }
  }

  // The writers' view of the outcomes agrees with the resource's.
  for (const outcome of outcomes.values()) {
    if (outcome.accepted === null) continue;
    const w = decided.get(key(outcome.pid, outcome.seq));
    if (!w || w.accepted !== outcome.accepted) {
      violations.push({
        kind: 'write-record-mismatch',
        t: outcome.t,
        message: `pid ${outcome.pid} recorded write #${outcome.seq} as ${outcome.accepted ? 'accepted' : 'rejected'}; the resource ${w ? `logged it ${w.accepted ? 'accepted' : 'rejected'}` : 'has no such write'}`,
      });
    }
  }

  return {
    accepted: resource.filter((w) => w.accepted).length,
    rejected: resource.filter((w) => !w.accepted).length,
    unanswered: [...sends.keys()].filter((k) => (outcomes.get(k)?.accepted ?? null) === null).length,
    fromResumedStale: {
      accepted: resumedStale.reduce((n, r) => n + r.writesAccepted, 0),
      rejected: resumedStale.reduce((n, r) => n + r.writesRejected, 0),
    },
  };
}
