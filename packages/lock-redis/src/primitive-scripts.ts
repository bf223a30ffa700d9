import { Command } from 'ioredis';
import { createHash } from 'node:crypto';
import type { RedisClient } from './options.ts';
import {
  READ_ACQUIRE_LUA,
  WRITE_ACQUIRE_LUA,
  WRITE_GET_LUA,
  WRITE_READERS_LUA,
  WRITE_RELEASE_LUA,
  WRITE_RENEW_LUA,
} from './scripts/read-write.lua.ts';
import {
  HOLDER_GET_LUA,
  HOLDER_RELEASE_LUA,
  HOLDER_RENEW_LUA,
  SEMAPHORE_ACQUIRE_LUA,
  SEMAPHORE_WAKE_LUA,
} from './scripts/semaphore.lua.ts';

/** The scripts of the native semaphore and reader-writer lock, by name. */
const SOURCES = {
  semaphoreAcquire: SEMAPHORE_ACQUIRE_LUA,
  semaphoreWake: SEMAPHORE_WAKE_LUA,
  holderRenew: HOLDER_RENEW_LUA,
  holderRelease: HOLDER_RELEASE_LUA,
  holderGet: HOLDER_GET_LUA,
  readAcquire: READ_ACQUIRE_LUA,
  writeAcquire: WRITE_ACQUIRE_LUA,
  writeReaders: WRITE_READERS_LUA,
  writeRenew: WRITE_RENEW_LUA,
  writeRelease: WRITE_RELEASE_LUA,
  writeGet: WRITE_GET_LUA,
} as const;

export type PrimitiveScript = keyof typeof SOURCES;

const SHAS = Object.fromEntries(
  Object.entries(SOURCES).map(([name, lua]) => [name, createHash('sha1').update(lua).digest('hex')]),
) as Record<PrimitiveScript, string>;

function send(client: RedisClient, command: 'eval' | 'evalsha', body: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  const sent = new Command(command, [body, String(keys.length), ...keys, ...args], { replyEncoding: 'utf8', keyPrefix: client.options.keyPrefix });
  void client.sendCommand(sent);
  return sent.promise;
}

/**
 * Runs one primitive script by its SHA; a server that does not know it yet (first use, a
 * flush, a restart, a failover) is sent the body once more (one round trip more, never an
 * error). Built as a plain command: nothing is defined on a client you passed in.
 */
export function runPrimitiveScript(client: RedisClient, name: PrimitiveScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  return send(client, 'evalsha', SHAS[name], keys, args).catch((error: unknown) => {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return send(client, 'eval', SOURCES[name], keys, args);
  });
}
