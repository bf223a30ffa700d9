import { writeSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** File descriptor to write to. Default 2 (stderr), so stdout stays the command's. */
  fd?: number;
  /** Fields on every line. */
  base?: Record<string, unknown>;
  /** Colours in `pretty` format. Default: when `fd` is a terminal. */
  color?: boolean;
}

/**
 * A pino logger writing synchronously (nothing is lost when baton exits right after), as
 * JSON lines or, with `format: 'pretty'`, one readable line per event for a terminal.
 */
export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const fd = options.fd ?? 2;
  const format = options.format ?? 'json';
  const base = { pid: process.pid, ...options.base };
  const pinoOptions = { level: options.level ?? 'info', base, timestamp: pino.stdTimeFunctions.isoTime };
  const out = fdWriter(fd);
  if (format === 'json') return pino(pinoOptions, { write: (line: string) => out.write(line) });
  const color = options.color ?? isTerminal(fd);
  return pino(pinoOptions, { write: (line: string) => out.write(prettyLine(line, color)) });
}

/** Errors after which nobody reads the descriptor any more. */
const READER_GONE = new Set(['EPIPE', 'EBADF', 'ECONNRESET', 'ENOTCONN', 'EINVAL']);

/**
 * Writes to `fd` synchronously (nothing is lost when baton exits right after). Once the reader
 * has gone — `baton run … 2>&1 | head` after head exits: EPIPE — the rest is dropped: log
 * lines nobody can read must not throw into the elector, lose the command's exit code or
 * leave the lease held. A full non-blocking pipe (EAGAIN) is waited on, briefly.
 */
export function fdWriter(fd: number): { write(text: string): void } {
  let open = true;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    write(text: string): void {
      let rest = Buffer.from(text);
      for (let attempt = 0; open && rest.length > 0; ) {
        try {
          rest = rest.subarray(writeSync(fd, rest));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? '';
          if (code === 'EAGAIN' && ++attempt < 200) Atomics.wait(pause, 0, 0, 5);
          else if (READER_GONE.has(code)) open = false;
          else return; // another error: this line is lost, later ones may still get through
        }
      }
    },
  };
}

function isTerminal(fd: number): boolean {
  return (fd === 1 ? process.stdout.isTTY : fd === 2 ? process.stderr.isTTY : false) === true;
}

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};

/** `12:00:01.234 INFO  started leading  identity=alpha fencingToken=3` */
export function prettyLine(json: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { level, time, msg, pid: _pid, hostname: _hostname, ...fields } = entry;
  const [name, tint] = LEVELS[level as number] ?? [String(level), ''];
  const clock = typeof time === 'string' ? time.slice(11, 23) : new Date(Number(time)).toISOString().slice(11, 23);
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s);
  const levelText = color ? `${tint}${name}\x1b[0m` : name;
  return `${dim(clock)} ${levelText} ${String(msg ?? '')}${rest ? `  ${dim(rest)}` : ''}\n`;
}
