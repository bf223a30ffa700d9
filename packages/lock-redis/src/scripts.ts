import { Cluster, Command } from 'ioredis';
import { createHash } from 'node:crypto';
import type { RedisClient } from './options.ts';
import { ACQUIRE_LUA } from './scripts/acquire.lua.ts';
import { PATCH_LUA } from './scripts/patch.lua.ts';
import { WRITE_LUA } from './scripts/write.lua.ts';

/** The script sources (`src/scripts/*.lua.ts`), by name; each takes the record and counter keys. */
const SOURCES = {
  batonLockWrite: WRITE_LUA,
  batonLockAcquire: ACQUIRE_LUA,
  batonLockPatch: PATCH_LUA,
} as const;

export type ScriptName = keyof typeof SOURCES;

/** What `write.lua` (and `patch.lua`, whose 'ok' has no token) returns: a status word, then details (see its header). */
export type ScriptReply = ['ok', string] | ['ok'] | ['conflict', string] | ['notfound'] | ['invalid', string];

/** What `acquire.lua` returns (see its header): the stored record's fields when it is held. */
export type AcquireReply =
  | ['acquired', string, string]
  | ['held', string | null, string | null, string | null, string | null, string | null, string | null, string | null]
  | ['invalid', string];


export function scriptSources(): Readonly<Record<ScriptName, string>> {
  return SOURCES;
}

/** A script's SHA1 (what EVALSHA names), and the connections that have been sent its body. */
interface Loaded {
  readonly lua: string;
  readonly sha: string;
  readonly sentOn: WeakSet<object>;
}

const LOADED: Readonly<Record<ScriptName, Loaded>> = {
  batonLockWrite: loaded(SOURCES.batonLockWrite),
  batonLockAcquire: loaded(SOURCES.batonLockAcquire),
  batonLockPatch: loaded(SOURCES.batonLockPatch),
};

function loaded(lua: string): Loaded {
  return { lua, sha: createHash('sha1').update(lua).digest('hex'), sentOn: new WeakSet() };
}

/** A script on the server is gone (SCRIPT FLUSH, a restarted or failed-over server). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * One ioredis command, built here rather than through a command defined on the client (no
 * wrapper per call, and nothing added to a client you passed in). The body goes once per
 * connection (EVAL), then the SHA (EVALSHA); Cluster nodes are sent the SHA first.
 */
function send(client: RedisClient, script: Loaded, record: string, fence: string, args: readonly string[], body: boolean): Promise<unknown> {
  const command = new Command(body ? 'eval' : 'evalsha', [body ? script.lua : script.sha, '2', record, fence, ...args], {
    replyEncoding: 'utf8',
    keyPrefix: client.options.keyPrefix,
  });
  void client.sendCommand(command);
  return command.promise;
}

/**
 * Runs a script on a lock's two keys and decodes its reply with `decode`. After a NOSCRIPT
 * reply the body is sent again (once), so a flushed, restarted or failed-over server costs
 * one more round trip, never an error.
 */
export function runScript<T>(
  client: RedisClient,
  name: ScriptName,
  record: string,
  fence: string,
  args: readonly string[],
  decode: (reply: unknown) => T,
): Promise<T> {
  const script = LOADED[name];
  const stream = client instanceof Cluster ? undefined : client.stream;
  const first = stream !== undefined && !script.sentOn.has(stream);
  if (first) script.sentOn.add(stream);
  return send(client, script, record, fence, args, first).then(decode, (error: unknown) => {
    if (!isNoScript(error)) throw error;
    return send(client, script, record, fence, args, true).then(decode);
  });
}
