/**
 * The history of a harness run: one JSON object per line, from three sources.
 * - `candidate`: what a candidate process believed and did (written by the process itself,
 *   synchronously, so a SIGKILL loses nothing that happened before it);
 * - `resource`: what the protected resource accepted or rejected, in the order it decided;
 * - `harness`: process lifecycle (spawn, kill, pause, resume, exit), faults, and the run's
 *   parameters.
 * Times `t` are milliseconds with sub-ms precision, each on its writer's own clock
 * (`performance.timeOrigin + performance.now()`): the monotonic clock, which runs at one rate
 * for every process of the machine, plus a per-process origin taken from the wall clock at
 * start, which can differ between processes. So every candidate first measures its offset to
 * the harness clock (a `clock` event, see {@link ClockSample}); the checker moves candidate
 * times onto the harness clock with it, and derives its comparison tolerance from the
 * measurement's uncertainty.
 */

export interface RunInfo {
  src: 'harness';
  ev: 'run';
  t: number;
  backend: string;
  seed: number;
  candidates: number;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** When the last fault healed. */
  faultsEndAt: number;
  /** When the run stopped observing (candidates are stopped after this). */
  endAt: number;
  /** The longest leaderless gap allowed once faults have stopped. */
  leaderlessBoundMs: number;
  /**
   * Added to the measured clock uncertainty when comparing two processes' times: timestamp
   * resolution and rounding (default 0.5 ms). The tolerance itself comes from the `clock`
   * events.
   */
  clockToleranceMs: number;
}

/**
 * A candidate's offset to the harness clock, measured before it does anything else: it asks
 * the harness for its clock several times and keeps the sample with the shortest round trip.
 * `harness time = candidate time + offsetMs`, good to ± `uncertaintyMs` (half that round trip).
 */
export interface ClockSample {
  offsetMs: number;
  uncertaintyMs: number;
  samples: number;
}

export type CandidateMode = 'guarded' | 'unguarded' | 'sidecar';

export type CandidateEvent =
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'ready' }
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'leader'; leader: string }
  /**
   * A term began. `mode`: how the process writes — `guarded` (library, `term.assertLeading()`
   * before each write), `unguarded` (library, until the signal aborts: the fencing probe) or
   * `sidecar` (a command started by `baton run`; its term is the command's life, and `host`
   * is the spawn id of the baton process that started it). Absent in older histories: unguarded.
   */
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'start'; token: number; mode?: CandidateMode; host?: string }
  /** The synchronous lease check (`term.assertLeading()`) refused a write: none was sent. */
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'guard'; token: number; message: string }
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'stop'; token: number; reason: string }
  | ({ src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'clock' } & ClockSample)
  /** Written (synchronously) just before a write leaves, so a write in flight at a SIGKILL is still on record. */
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'send'; token: number; seq: number }
  | {
      src: 'candidate';
      t: number;
      pid: number;
      slot: number;
      identity: string;
      ev: 'write';
      token: number;
      seq: number;
      sentAt: number;
      accepted: boolean | null;
      error?: string;
    }
  | { src: 'candidate'; t: number; pid: number; slot: number; identity: string; ev: 'exit' | 'error'; message?: string };

export interface ResourceEvent {
  src: 'resource';
  ev: 'write';
  t: number;
  pid: number;
  identity: string;
  token: number;
  seq: number;
  accepted: boolean;
  /** The highest token accepted before this write. */
  highest: number;
}

export type FaultKind = 'kill' | 'pause' | 'proxy-cut' | 'proxy-delay' | 'proxy-drop' | 'backend-restart';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'proxy-cut', 'proxy-delay', 'proxy-drop', 'backend-restart'];

export type HarnessEvent =
  | RunInfo
  /** A candidate process started: a library candidate, or (`spawnId` set) a `baton run` sidecar. */
  | { src: 'harness'; ev: 'spawn'; t: number; pid: number; slot: number; identity: string; spawnId?: string }
  | { src: 'harness'; ev: 'exit'; t: number; pid: number; slot: number; code: number | null; signal: string | null }
  | { src: 'harness'; ev: 'kill' | 'pause' | 'resume'; t: number; pid: number; slot: number }
  | {
      src: 'harness';
      ev: 'fault';
      t: number;
      /** Index in the schedule. */
      index: number;
      kind: FaultKind;
      phase: 'start' | 'end';
      /** What it was applied to: a pid, or `backend`. */
      target?: number | 'backend';
      /** Whether the target was the leader at the time. */
      targetWasLeader?: boolean;
      detail?: string;
      /** True when the fault could not be applied (e.g. no leader to kill); it is not counted. */
      skipped?: boolean;
    };

export type HistoryEvent = CandidateEvent | ResourceEvent | HarnessEvent;

/** Parses a JSONL history (blank lines ignored). */
export function parseHistory(text: string): HistoryEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as HistoryEvent;
      } catch (error) {
        throw new Error(`history line ${i + 1} is not JSON: ${String(error)}`, { cause: error });
      }
    });
}
