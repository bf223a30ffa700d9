import { existsSync, readFileSync } from 'node:fs';
import type { RedisClient } from './options.ts';

/** The scripts in `src/scripts/`, by the command name they are defined under on a client. */
const SCRIPTS = {
  batonLockWrite: { file: 'write.lua', numberOfKeys: 2 },
  batonLockAcquire: { file: 'acquire.lua', numberOfKeys: 2 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** What `write.lua` returns: a status word, then details (see its header). */
export type ScriptReply = ['ok', string] | ['conflict', string] | ['notfound'] | ['invalid', string];

/** What `acquire.lua` returns (see its header): the stored record's fields when it is held. */
export type AcquireReply =
  | ['acquired', string, string]
  | ['held', string | null, string | null, string | null, string | null, string | null, string | null, string | null]
  | ['invalid', string];


/** Reads a script next to this module (`src/scripts/`), or from `src/` when running from `dist/`. */
function readScript(file: string): string {
  const candidates = [new URL(`./scripts/${file}`, import.meta.url), new URL(`../src/scripts/${file}`, import.meta.url)];
  const found = candidates.find((url) => existsSync(url));
  if (!found) throw new Error(`@baton/lock-redis: script ${file} not found next to ${import.meta.url}`);
  return readFileSync(found, 'utf8');
}

/** The script sources, read once when this module loads (a missing file fails the import). */
const SOURCES: Readonly<Record<ScriptName, string>> = {
  batonLockWrite: readScript(SCRIPTS.batonLockWrite.file),
  batonLockAcquire: readScript(SCRIPTS.batonLockAcquire.file),
};

export function scriptSources(): Readonly<Record<ScriptName, string>> {
  return SOURCES;
}

/**
 * Defines baton's scripts as commands on `client`. ioredis sends a script's body once per
 * connection (EVAL), then calls it by SHA (EVALSHA), and sends the body again after a
 * NOSCRIPT reply (a `SCRIPT FLUSH`, a restarted or failed-over server).
 */
export function defineScripts(client: RedisClient): void {
  const lua = scriptSources();
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    if (typeof (client as unknown as Record<string, unknown>)[name] === 'function') continue;
    client.defineCommand(name, { lua: lua[name], numberOfKeys: SCRIPTS[name].numberOfKeys });
  }
}

/** Runs a script defined by {@link defineScripts} on a lock's two keys. */
export function runScript(client: RedisClient, name: ScriptName, record: string, fence: string, args: readonly string[]): Promise<unknown> {
  const command = (client as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[name];
  if (typeof command !== 'function') throw new Error(`@baton/lock-redis: script ${name} is not defined on this client`);
  return command.call(client, record, fence, ...args);
}
