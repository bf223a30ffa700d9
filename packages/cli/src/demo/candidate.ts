import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { livingInGroups } from '../process-groups.ts';

// Compiled (dist/src/demo/candidate.js) the bin is dist/bin/baton.js; in the workspace, bin/baton.ts.
const BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../bin/baton.ts' : '../../bin/baton.js', import.meta.url));

/**
 * The demo's leader-only command: says when it starts, and on SIGTERM finishes its current
 * unit of work (50 ms) before exiting 0 — so a graceful handover includes a real shutdown.
 */
const WORKER = `
const id = process.env.BATON_IDENTITY, token = process.env.BATON_FENCING_TOKEN;
process.on('SIGTERM', () => { console.log(id + ': SIGTERM, finishing the current job'); setTimeout(() => process.exit(0), 50); });
setInterval(() => {}, 1 << 30);
console.log(id + ': working as leader (fencing token ' + token + ')');
`;

/** Something a candidate said: a log line of its baton (JSON), or a line of its command. */
export interface CandidateEvent {
  readonly identity: string;
  /** Epoch ms: the log line's own time when it has one (for `command exited`, the exit's). */
  readonly at: number;
  readonly kind: 'log' | 'output';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** One `baton run` process of the demo, in its own process group (with its command). */
export class Candidate {
  readonly identity: string;
  readonly child: ChildProcess;
  /** Settles when the baton process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Settles once its last log line was read (its stderr ended): 'exit' may come before. */
  readonly logged: Promise<unknown>;
  /** Its status server, once it logged it. */
  httpUrl: string | undefined;
  /** Process groups of the commands it started (each command leads a group of its own). */
  private readonly commandGroups = new Set<number>();

  constructor(identity: string, configPath: string, onEvent: (event: CandidateEvent) => void) {
    this.identity = identity;
    this.child = spawn(process.execPath, [BIN, 'run', '--config', configPath, '--identity', identity, '--', process.execPath, '-e', WORKER], {
      detached: true,
      // The IPC channel is how a candidate learns the demo is gone (see bin/baton.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Only the demo's configuration file counts: no BATON_* variable of the caller's shell.
      env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('BATON_'))),
    });
    this.child.channel?.unref(); // the channel alone must not keep the demo running
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      onEvent({ identity, at: Date.now(), kind: 'output', message: line, fields: {} });
    });
    const logLines = createInterface({ input: this.child.stderr! });
    this.logged = new Promise((resolve) => logLines.once('close', resolve));
    logLines.on('line', (line) => {
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(line) as Record<string, unknown>;
      } catch {
        onEvent({ identity, at: Date.now(), kind: 'output', message: line, fields: {} });
        return;
      }
      // A command's exit counts when the watchdog saw its group empty, not when baton logged it.
      const time = typeof fields.exitedAt === 'string' ? fields.exitedAt : fields.time;
      const at = typeof time === 'string' ? Date.parse(time) : Date.now();
      if (typeof fields.url === 'string' && fields.msg?.toString().startsWith('serving')) this.httpUrl = fields.url;
      if (typeof fields.childPid === 'number') {
        // The watchdog reports the exit only once the command's group is empty.
        if (fields.msg === 'command started') this.commandGroups.add(fields.childPid);
        if (fields.msg === 'command exited') this.commandGroups.delete(fields.childPid);
      }
      onEvent({ identity, at, kind: 'log', message: String(fields.msg ?? ''), fields });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Whether the baton process is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A crash of the whole pod: SIGKILL to baton, its watchdog and its command at once. */
  crash(): void {
    this.killGroup();
  }

  /** A graceful stop: SIGTERM to baton alone, which stops its command and releases the lease. */
  terminate(): void {
    if (this.running) this.child.kill('SIGTERM');
  }

  /**
   * How many processes of its group are alive. On Linux zombies (exited, not yet reaped by
   * init) do not count; elsewhere the group counts as one while it exists.
   */
  livingProcesses(): number {
    return livingInGroups([this.pid, ...this.commandGroups]);
  }


  /** SIGKILL to everything of this candidate: baton's group and its commands' groups. */
  killGroup(): void {
    for (const group of [this.pid, ...this.commandGroups]) signalGroup(group, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}
