import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import { BatonError } from '@baton/core';
import type { Container } from '@baton/runtime';
import {
  backendNames,
  backendSections,
  CONFIG_FILE_ENV,
  CONFIG_OPTIONS,
  ConfigValidationError,
  createContainer,
  loadConfig,
  type LoadedConfig,
} from '@baton/runtime';
import type { CliIo } from './io.ts';
import { createLogger } from './logger.ts';

export type { CliIo } from './io.ts';

/** `baton`'s exit codes. A command's own code passes through `baton run` unchanged. */
export const EXIT = {
  OK: 0,
  /** A runtime failure: the backend could not be opened, the HTTP port is taken, … */
  FAILURE: 1,
  /** Bad usage: unknown command or flag, invalid configuration. */
  USAGE: 2,
  /** `baton status`: the lock has no record. */
  NOT_FOUND: 3,
  /**
   * `baton run`: gave up — the backend kept failing with a permanent error (wrong
   * credentials, a missing permission, database or namespace, a record that is not baton's)
   * for `giveUpAfter`.
   */
  GAVE_UP: 4,
  /** `baton run`: the command exists but could not be executed. */
  CANNOT_EXECUTE: 126,
  /** `baton run`: the command was not found. */
  COMMAND_NOT_FOUND: 127,
} as const;

/** A usage error: printed with a hint, exit code 2. */
class UsageError extends BatonError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

const COMMANDS = ['run', 'status', 'demo', 'help', 'version'] as const;

const CONFIG_FLAGS: Record<string, ParseArgsOptionDescriptor> = Object.fromEntries([
  ['config', { type: 'string', short: 'c' }],
  ['help', { type: 'boolean', short: 'h' }],
  ...CONFIG_OPTIONS.map((spec) => [spec.flag, spec.type === 'boolean' ? { type: 'boolean' } : { type: 'string' }]),
]);

const COMMAND_FLAGS: Record<string, Record<string, ParseArgsOptionDescriptor>> = {
  run: {},
  status: { watch: { type: 'boolean', short: 'w' }, output: { type: 'string', short: 'o' } },
  demo: { fast: { type: 'boolean' }, 'keep-going': { type: 'boolean' } },
};

/**
 * The `baton` command line. Returns the exit code; never throws.
 * @param argv - the arguments after `baton`.
 */
export async function main(argv: readonly string[], io: CliIo, container: Container = createContainer()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout(usage(rest[0], container));
      return EXIT.OK;
    }
    if (command === 'version' || command === '--version' || command === '-v') {
      io.stdout(`baton ${version()}\n`);
      return EXIT.OK;
    }
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw new UsageError(`unknown command "${command}"; commands: run, status, demo, help, version`);
    }

    let args = rest;
    let commandLine: string[] = [];
    if (command === 'run') {
      const split = rest.indexOf('--');
      if (split >= 0) {
        args = rest.slice(0, split);
        commandLine = rest.slice(split + 1);
      }
    }
    const flags = parse(command, args);
    if (flags.help) {
      io.stdout(usage(command, container));
      return EXIT.OK;
    }

    switch (command) {
      case 'run': {
        if (commandLine.length === 0) throw new UsageError('baton run needs a command: baton run [options] -- <command> [args…]');
        const loaded = await load(flags, io, container);
        const logger = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format });
        const { runWhileLeader } = await import('./commands/run.ts');
        return await runWhileLeader({ loaded, command: commandLine, logger, container, signal: io.signal });
      }
      case 'status': {
        const output = (flags.output as string | undefined) ?? 'table';
        if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be "table" or "json", got "${output}"`);
        const loaded = await load(flags, io, container);
        const logger = createLogger({ level: loaded.config.log.level === 'info' ? 'warn' : loaded.config.log.level, format: loaded.config.log.format });
        const { showStatus } = await import('./commands/status.ts');
        return await showStatus({
          loaded,
          watch: flags.watch === true,
          output,
          logger,
          container,
          signal: io.signal,
          write: (line) => io.stdout(`${line}\n`),
        });
      }
      case 'demo': {
        const { runDemo } = await import('./commands/demo.ts');
        return await runDemo({ flags, io });
      }
    }
    return EXIT.USAGE;
  } catch (error) {
    return report(error, command, io);
  }
}

function parse(command: string, args: readonly string[]): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...CONFIG_FLAGS, ...COMMAND_FLAGS[command] },
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(
        command === 'run'
          ? `unexpected argument "${positionals[0]}": put the command after "--", as in: baton run [options] -- ${positionals.join(' ')}`
          : `unexpected argument "${positionals[0]}"`,
      );
    }
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const message = (error as Error).message.split('. To specify')[0]!;
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option'));
  }
}

async function load(flags: Record<string, unknown>, io: CliIo, container: Container): Promise<LoadedConfig> {
  const sections = backendSections(container);
  return loadConfig({
    file: flags.config as string | undefined,
    env: io.env,
    flags,
    backends: backendNames(container),
    sections: Object.values(sections),
    sectionOf: sections,
  });
}

function report(error: unknown, command: string | undefined, io: CliIo): number {
  if (error instanceof ConfigValidationError) {
    io.stderr(`baton: ${error.message}\n`);
    return EXIT.USAGE;
  }
  if ((error as { code?: unknown } | undefined)?.code === 'GAVE_UP') {
    io.stderr(`baton: ${(error as Error).message}\n`);
    return EXIT.GAVE_UP;
  }
  if (error instanceof UsageError) {
    const known = command !== undefined && command !== 'help' && (COMMANDS as readonly string[]).includes(command);
    io.stderr(`baton: ${error.message}\nRun "baton ${known ? `${command} ` : ''}--help" for usage.\n`);
    return EXIT.USAGE;
  }
  const message = typeof (error as Error | undefined)?.message === 'string' ? (error as Error).message : String(error);
  io.stderr(`baton: ${message}\n`);
  return EXIT.FAILURE;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL(import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function usage(command: string | undefined, container: Container): string {
  const options = CONFIG_OPTIONS.map((spec) => {
    const flag = spec.type === 'boolean' ? `--[no-]${spec.flag}` : `--${spec.flag} <${spec.type === 'duration' ? 'duration' : 'value'}>`;
    return `  ${flag.padEnd(30)} ${spec.env.padEnd(26)} ${spec.help}`;
  }).join('\n');
  const common = `Configuration (file < environment < flags):
  -c, --config <file>            ${CONFIG_FILE_ENV.padEnd(26)} YAML or JSON configuration file
${options}

Backends: ${backendNames(container).join(', ')}
`;
  switch (command) {
    case 'run':
      return `Usage: baton run [options] -- <command> [args…]

Campaigns for leadership and runs the command only while this replica leads. On loss of
leadership the command gets SIGTERM, then SIGKILL after the grace period; it starts again
when this replica is elected again. On SIGTERM or SIGINT baton stops the command the same
way, releases the lease and exits with the command's exit code. If the command exits on
its own, baton releases the lease and exits with that code. Signals go to the command's
whole process group; a watchdog stops the command even if baton is killed with SIGKILL.

The command sees BATON_IDENTITY, BATON_LEADER_ELECTION_ID and BATON_FENCING_TOKEN.
HTTP (http.port, default 4040): GET /leader, /healthz, /readyz, /metrics.

Exit codes: the command's code (128 + n when signal n ended it); 0 when stopped before it
ever ran; 1 runtime failure; 2 bad usage or configuration; 4 gave up after permanent
errors for giveUpAfter (wrong credentials, missing permission, database or namespace, a
foreign record); 126 the command cannot be executed; 127 the command was not found.

${common}`;
    case 'status':
      return `Usage: baton status [options] [--watch] [-o table|json]

Prints the lock's record, like "kubectl get lease"; --watch prints a row at every change.

  -w, --watch                    keep printing changes until interrupted
  -o, --output <table|json>      json prints one object per line

Exit codes: 0 printed; 1 the backend failed; 2 bad usage or configuration; 3 no such lock.

${common}`;
    case 'demo':
      return `Usage: baton demo [--backend lease|endpoints|configmap|redis|postgres|etcd] [--url <url>] [--fast]

Starts three "baton run" candidates on the backend (default: Lease objects on an
in-process fake Kubernetes API server), shows the lock live, kills the leader with
SIGKILL, makes the next leader step down gracefully, and prints both failover times.

  --fast                         short timing profile (lease 1s, renew 700ms, retry 150ms)
  --url <url>                    the backend (redis://…, postgres://…, http://etcd:2379, a Kubernetes API server);
                                 etcd without --url: a throwaway etcd if the etcd binary is on PATH
  --lease-duration, --renew-deadline, --retry-period   override the timings

Exit codes: 0 the demo ran and its checks passed; 1 a check failed; 2 bad usage.
`;
    default:
      return `baton — leader election for any process, on Kubernetes, Redis, PostgreSQL or etcd

Usage:
  baton run [options] -- <command> [args…]   run the command only while leader
  baton status [options] [--watch]            print the lock's record
  baton demo [--backend …] [--url …]          watch three candidates fail over
  baton help [command]                        this help, or a command's
  baton version

${common}`;
  }
}
