import { InvalidRecordError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { durationMs, durationSeconds, readCount, readDurationSeconds, readTime, termMark, toRfc3339 } from '@baton/lock-lease';
import type { KubeObject, RecordCodec } from '@baton/lock-lease';

/** The annotation kube-controller-manager and kube-scheduler kept their record in. */
export const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/**
 * The annotation's JSON, with client-go's field names and order, plus three fields client-go
 * ignores when reading (and drops when it writes): `fencingToken`, `leaseDurationMs` and
 * `batonTerm` — `<leaderTransitions>/<holderIdentity>` of the term `leaseDurationMs` was
 * written for, as `baton.dev/term` is on a Lease.
 */
interface AnnotationRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string | null;
  renewTime: string | null;
  leaderTransitions: number;
  fencingToken: number;
  leaseDurationMs: number;
  batonTerm: string;
}

/**
 * The record as JSON in annotation `control-plane.alpha.kubernetes.io/leader`, times in
 * RFC 3339 with milliseconds (Go parses the fraction). Everything else on the object
 * (other annotations, subsets, data) is left as it is.
 * @param describe - names the object in errors.
 */
export function annotationCodec<T extends KubeObject>(describe: string): RecordCodec<T> {
  return {
    decode(object) {
      const text = object.metadata?.annotations?.[LEADER_ANNOTATION];
      if (text === undefined) return null;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        throw new InvalidRecordError(describe, `annotation ${LEADER_ANNOTATION} is not JSON: ${JSON.stringify(text.slice(0, 80))}`, { cause: error });
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new InvalidRecordError(describe, `annotation ${LEADER_ANNOTATION} is not a JSON object`);
      }
      const holder = parsed.holderIdentity ?? '';
      if (typeof holder !== 'string') throw new InvalidRecordError(describe, `holderIdentity must be a string, got ${JSON.stringify(holder)}`);
      const seconds = readDurationSeconds(parsed.leaseDurationSeconds, 'leaseDurationSeconds', describe);
      const leaderTransitions = readCount(parsed.leaderTransitions, 'leaderTransitions', describe);
      // client-go rewrites the whole annotation from its five fields, but a client that
      // merges into the JSON it read keeps baton's: the milliseconds count only while the
      // term they were written for is still the record's, else the seconds rule. The fencing
      // token is a high-water mark, read whoever holds the lock (as on a Lease).
      const ownTerm = parsed.batonTerm === termMark(holder, leaderTransitions);
      return {
        holderIdentity: holder,
        leaseDurationMs: durationMs(seconds, parsed.leaseDurationMs, ownTerm),
        acquireTime: readTime(parsed.acquireTime, 'acquireTime', describe),
        renewTime: readTime(parsed.renewTime, 'renewTime', describe),
        leaderTransitions,
        fencingToken: readCount(parsed.fencingToken, 'fencingToken', describe),
      };
    },
    encode(record: LeaderElectionRecord, object) {
      const value: AnnotationRecord = {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: durationSeconds(record),
        acquireTime: toRfc3339(record.acquireTime),
        renewTime: toRfc3339(record.renewTime),
        leaderTransitions: record.leaderTransitions,
        fencingToken: record.fencingToken,
        leaseDurationMs: record.leaseDurationMs,
        batonTerm: termMark(record.holderIdentity, record.leaderTransitions),
      };
      object.metadata = { ...object.metadata, annotations: { ...object.metadata?.annotations, [LEADER_ANNOTATION]: JSON.stringify(value) } };
      return object;
    },
  };
}
