/**
 * What `baton demo` prints: a kubectl-style table of the lock, interleaved with the
 * candidates' events, and the summary at the end. The flow is in `commands/demo.ts`.
 */
import type { LockSnapshot } from '@baton/core';
import type { BatonConfig } from '@baton/runtime';
import type { CliIo } from '../io.ts';
import { clockTime, formatAge, holderOf, TextTable } from '../record-table.ts';
import type { Candidate, CandidateEvent } from './candidate.ts';

/** What the demo measured; printed as its summary. */
export interface DemoSummary {
  backend: string;
  crashFailoverMs: number;
  crashBoundMs: number;
  gracefulHandoverMs: number;
  /** Of the graceful handover: how long the leader's command took to stop. */
  commandStopMs: number | undefined;
  /** Of the graceful handover: from the release to the next leader's acquisition. */
  freeMs: number | undefined;
  oneCommandAtATime: boolean;
  stoppedExitCode: number | null;
  processesLeft: number;
  passed: boolean;
}

/**
 * The graceful handover's check: the leader released the lease and the next one took it
 * within a lease duration of the release — so it was handed over, not left to expire. The
 * time the command took to stop is the command's own and is shown, not bounded.
 */
export function releasedInTime(s: Pick<DemoSummary, 'freeMs'>, leaseDurationMs: number): boolean {
  return s.freeMs !== undefined && s.freeMs < leaseDurationMs;
}

/** One line for a candidate's event on the screen, or undefined to leave it out. */
export function describeEvent(event: CandidateEvent): string | undefined {
  const { identity, fields } = event;
  if (event.kind === 'output') return event.message;
  switch (event.message) {
    case 'started leading':
      return `${identity} started leading (fencing token ${String(fields.fencingToken)})`;
    case 'stopped leading':
      return `${identity} stopped leading (${String(fields.reason)})`;
    case 'released the lease':
      return `${identity} released the lease`;
    case 'stopping the command (SIGTERM)':
      return `${identity} sends SIGTERM to its command`;
    case 'command exited':
      return `${identity}'s command exited with code ${String(fields.exitCode)}`;
    default:
      return typeof fields.level === 'number' && fields.level >= 40 ? `${identity}: ${event.message}` : undefined;
  }
}

interface LockLine {
  at: number;
  snapshot: LockSnapshot | null;
}

/** The demo's screen: a kubectl-style table of the lock, interleaved with events. */
export class DemoOutput {
  private readonly io: CliIo;
  private readonly startedAt = Date.now();
  private readonly live: boolean;
  private liveRow = false;
  private readonly table = new TextTable<LockLine>([
    { header: 'TIME', value: (l) => this.elapsed(l.at), width: 7, align: 'right' },
    { header: 'HOLDER', value: (l) => holderOf(l.snapshot), width: 12 },
    { header: 'TRANSITIONS', value: (l) => (l.snapshot ? String(l.snapshot.record.leaderTransitions) : '-'), align: 'right' },
    { header: 'TOKEN', value: (l) => (l.snapshot ? String(l.snapshot.record.fencingToken) : '-'), align: 'right' },
    { header: 'RENEWED', value: (l) => (l.snapshot ? clockTime(l.snapshot.record.renewTime) : '-'), width: 12 },
  ]);

  constructor(io: CliIo) {
    this.io = io;
    this.live = io.stdoutIsTTY === true;
  }

  banner(config: BatonConfig, where: string): void {
    this.line(`baton demo: three candidates on the ${config.backend} backend (${where})`);
    this.line(
      `lock ${config.leaderElectionID}; lease ${formatAge(config.leaseDuration)}, renew deadline ${formatAge(config.renewDeadline)}, ` +
        `retry ${formatAge(config.retryPeriod)}, grace ${formatAge(config.gracePeriod)}`,
    );
    this.line('');
    this.line(`${this.table.header()}   EVENT`);
  }

  /** A row per change of holder or term; renewals update the row in place on a terminal. */
  lockRow(snapshot: LockSnapshot | null, renewedOnly: boolean): void {
    const row = this.table.row({ at: Date.now(), snapshot });
    if (renewedOnly) {
      if (!this.live) return;
      this.io.stdout(`${this.liveRow ? '\r\x1b[2K' : ''}${row}`);
      this.liveRow = true;
      return;
    }
    this.commit();
    if (this.live) {
      this.io.stdout(row);
      this.liveRow = true;
    } else {
      this.io.stdout(`${row}\n`);
    }
  }

  event(at: number, text: string): void {
    this.commit();
    this.io.stdout(`${this.elapsed(at).padStart(7)}   · ${text}\n`);
  }

  summary(s: DemoSummary, config: BatonConfig, crashed: string, stopped: string, last: string): void {
    const mark = (ok: boolean): string => (ok ? 'ok' : 'FAILED');
    const crashLabel = `crash failover (SIGKILL ${crashed} → ${stopped} leads):`;
    const gracefulLabel = `graceful handover (SIGTERM ${stopped} → ${last} leads):`;
    const width = Math.max(crashLabel.length, gracefulLabel.length);
    const parts =
      s.commandStopMs !== undefined && s.freeMs !== undefined
        ? ` (its command stopped in ${s.commandStopMs} ms; the lease was free for ${s.freeMs} ms)`
        : '';
    this.line('');
    this.line(`Summary (${s.backend}; lease ${formatAge(config.leaseDuration)}, retry ${formatAge(config.retryPeriod)})`);
    this.line(
      `  ${crashLabel.padEnd(width)} ${String(s.crashFailoverMs).padStart(5)} ms   ` +
        `${mark(s.crashFailoverMs <= s.crashBoundMs)}: at most ${s.crashBoundMs} ms (lease + jittered retry + slack)`,
    );
    this.line(
      `  ${gracefulLabel.padEnd(width)} ${String(s.gracefulHandoverMs).padStart(5)} ms   ` +
        `${mark(releasedInTime(s, config.leaseDuration))}: released, not left to expire${parts}`,
    );
    this.line(`  one command at a time: ${s.oneCommandAtATime ? 'yes' : 'NO'}   ${mark(s.oneCommandAtATime)}`);
    this.line(`  exit code of ${stopped} after SIGTERM: ${String(s.stoppedExitCode)} (its command's)   ${mark(s.stoppedExitCode === 0)}`);
    this.line(`  processes left: ${s.processesLeft}   ${mark(s.processesLeft === 0)}`);
    this.line(s.passed ? 'demo passed' : 'demo FAILED');
  }

  /** Ends a live row so the next output starts on a fresh line. */
  flush(): void {
    this.commit();
  }

  private line(text: string): void {
    this.commit();
    this.io.stdout(`${text}\n`);
  }

  private commit(): void {
    if (this.liveRow) this.io.stdout('\n');
    this.liveRow = false;
  }

  private elapsed(at: number): string {
    return `${((at - this.startedAt) / 1000).toFixed(2)}s`;
  }
}
