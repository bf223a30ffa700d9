/**
 * What the checker can find wrong with a run. Each kind has a hand-written history in
 * `bench/test/checker.test.ts` that must produce it.
 */
export type ViolationKind =
  /** Two processes both believed they led, both running, beyond the clock tolerance (a paused leader's wake-up included, beyond its bound). */
  | 'dual-leadership'
  /** A later term with the same token as an earlier one. */
  | 'duplicate-token'
  /** A later term with a smaller token. */
  | 'token-not-increasing'
  /** The resource accepted a token lower than one it had accepted (the resource's fencing is broken). */
  | 'stale-write-accepted'
  /** The resource accepted a write after a term with a larger token had begun (the old leader acted after the new one started). */
  | 'superseded-write-accepted'
  /** The same, from a leader that was paused when its successor began: fencing should have rejected it. */
  | 'resumed-stale-write-accepted'
  /** A write whose process and token match no term. */
  | 'write-without-term'
  /** A write sent before its writer's term began or after it ended, or received before it was sent. */
  | 'write-outside-term'
  /** The resource logged a write the writer never recorded sending. */
  | 'write-unrecorded'
  /** The writer's record of a write's outcome differs from the resource's log (or the resource has no such write). */
  | 'write-record-mismatch'
  /** After the faults stopped, no running leader for longer than the run's bound. */
  | 'leaderless-too-long'
  /** The history itself is malformed (no run record, a term opened twice, an unsynchronised clock). */
  | 'history';

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'dual-leadership',
  'duplicate-token',
  'token-not-increasing',
  'stale-write-accepted',
  'superseded-write-accepted',
  'resumed-stale-write-accepted',
  'write-without-term',
  'write-outside-term',
  'write-unrecorded',
  'write-record-mismatch',
  'leaderless-too-long',
  'history',
];

export interface Violation {
  kind: ViolationKind;
  t: number;
  message: string;
}
