import { sameRecord, type LockSnapshot, type Logger, type ResourceLock } from '@baton/core';
import type { Container } from '@baton/runtime';
import { openLock, type LoadedConfig } from '@baton/runtime';
import { followLock } from '../follow-lock.ts';
import { LOCK_COLUMNS, lockJson, TextTable, type LockRow } from '../record-table.ts';

export interface StatusOptions {
  loaded: LoadedConfig;
  watch: boolean;
  output: 'table' | 'json';
  logger: Logger;
  container?: Container;
  /** Where the table goes. */
  write(line: string): void;
  /** Ends `--watch`. */
  signal: AbortSignal;
}

/** Exit code of `baton status` when the lock has no record (and `--watch` is not given). */
export const STATUS_NOT_FOUND = 3;

/**
 * `baton status [--watch]`: prints the lock's record like `kubectl get lease`; with
 * `--watch`, a new row every time it changes (from the backend's notifications when it has
 * them, and a read every `retryPeriod` in any case).
 */
export async function showStatus(options: StatusOptions): Promise<number> {
  const { config } = options.loaded;
  const opened = await openLock(options.loaded, {
    container: options.container,
    logger: options.logger,
    identity: `baton-status-${process.pid}`,
  });
  try {
    const lock = opened.lock;
    const table = new TextTable(LOCK_COLUMNS);
    let printedHeader = false;
    const print = (snapshot: LockSnapshot | null): void => {
      const row: LockRow = { name: config.leaderElectionID, snapshot, at: Date.now() };
      if (options.output === 'json') {
        options.write(JSON.stringify(lockJson(row, lock.describe())));
        return;
      }
      if (!printedHeader) options.write(table.header());
      printedHeader = true;
      options.write(table.row(row));
    };

    const first = await lock.get({ signal: options.signal });
    print(first);
    if (!options.watch) return first === null ? STATUS_NOT_FOUND : 0;
    await watchChanges(lock, first, config.retryPeriod, options.signal, print, options.logger);
    return 0;
  } finally {
    await opened.close();
  }
}

/** Calls `print` for every change until `signal` aborts. */
async function watchChanges(
  lock: ResourceLock,
  first: LockSnapshot | null,
  pollMs: number,
  signal: AbortSignal,
  print: (snapshot: LockSnapshot | null) => void,
  logger: Logger,
): Promise<void> {
  let last = first;
  const stop = followLock(lock, {
    pollMs,
    signal,
    onSnapshot: (snapshot) => {
      if (!changed(last, snapshot)) return;
      last = snapshot;
      print(snapshot);
    },
    onError: (error) => logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not read the lock'),
  });
  try {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    stop();
  }
}

function changed(a: LockSnapshot | null, b: LockSnapshot | null): boolean {
  if (a === null || b === null) return a !== b;
  return !sameRecord(a.record, b.record);
}
