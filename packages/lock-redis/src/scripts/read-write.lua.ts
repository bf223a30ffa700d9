// The Lua sources of the native reader-writer lock (see ../redis-read-write.ts), embedded as
// strings so bundlers carry them. Reads are members of a holder set renewed and released by
// the semaphore's holder scripts (semaphore.lua.ts).
//
// KEYS[1] the lock's hash: `maxReaders`, `token` (the write counter; the hash never expires),
//         and while a writer holds or waits, `writer` (its identity) and `writerExpiry`
//         (on the server's clock)
// KEYS[2] the readers' holder set (member: reader identity, score: expiry)
import { NOW_LUA } from './semaphore.lua.ts';

/** Reads the hash and checks the reader count every process must agree on (`meta` then holds maxReaders, writer, writerExpiry, token). */
const META_LUA = `${NOW_LUA}
local meta = redis.call('HMGET', KEYS[1], 'maxReaders', 'writer', 'writerExpiry', 'token')
if meta[1] and meta[1] ~= ARGV[3] then return {'shape', meta[1]} end
local writer_live = meta[2] and tonumber(meta[3]) > now
`;

/**
 * One try at a read. ARGV[1] identity   ARGV[2] lease ms   ARGV[3] maxReaders   ARGV[4] backstop ms
 * Refused while a writer holds or waits (writer preference). Returns {'ok', write epoch}
 * | {'writer', ms until the writer expires} | {'full', ms until the first reader expires} | {'shape', n}.
 */
export const READ_ACQUIRE_LUA = `${META_LUA}
if writer_live then return {'writer', string.format('%.0f', tonumber(meta[3]) - now)} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {'full', first_expiry(KEYS[2])} end
if not meta[1] then redis.call('HSET', KEYS[1], 'maxReaders', ARGV[3]) end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
backstop(KEYS[2], ARGV[4])
return {'ok', meta[4] or '0'}
`;

/**
 * One try at the writer's place. ARGV[1] identity   ARGV[2] lease ms   ARGV[3] maxReaders
 * Refused while another writer holds it. Taken, it blocks new reads at once and bumps the
 * write counter. Returns {'ok', token, reads still held, ms until the first of them expires}
 * | {'writer', ms until the writer expires} | {'shape', n}.
 */
export const WRITE_ACQUIRE_LUA = `${META_LUA}
if writer_live then return {'writer', string.format('%.0f', tonumber(meta[3]) - now)} end
local token = redis.call('HINCRBY', KEYS[1], 'token', 1)
redis.call('HSET', KEYS[1], 'maxReaders', ARGV[3], 'writer', ARGV[1], 'writerExpiry', string.format('%.0f', now + tonumber(ARGV[2])))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return {'ok', tostring(token), tostring(redis.call('ZCARD', KEYS[2])), first_expiry(KEYS[2])}
`;

/** Writer check shared by the scripts below: `held` is true while ARGV[1] holds the writer's place. */
const WRITER_LUA = `${NOW_LUA}
local place = redis.call('HMGET', KEYS[1], 'writer', 'writerExpiry')
local held = place[1] == ARGV[1] and tonumber(place[2]) > now
`;

/**
 * For the writer waiting on reads. ARGV[1] writer identity
 * Returns {'ok', reads still held, ms until the first expires} | {'gone'}.
 */
export const WRITE_READERS_LUA = `${WRITER_LUA}
if not held then return {'gone'} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return {'ok', tostring(redis.call('ZCARD', KEYS[2])), first_expiry(KEYS[2])}
`;

/** Renews the writer's place. ARGV[1] identity   ARGV[2] lease ms. Returns 'ok' | 'gone'. */
export const WRITE_RENEW_LUA = `${WRITER_LUA}
if not held then return 'gone' end
redis.call('HSET', KEYS[1], 'writerExpiry', string.format('%.0f', now + tonumber(ARGV[2])))
return 'ok'
`;

/** Gives up the writer's place and tells the waiters. ARGV[1] identity   ARGV[2] channel   ARGV[3] message. Returns 'ok' | 'gone'. */
export const WRITE_RELEASE_LUA = `
if redis.call('HGET', KEYS[1], 'writer') ~= ARGV[1] then return 'gone' end
redis.call('HDEL', KEYS[1], 'writer', 'writerExpiry')
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 'ok'
`;

/** Whether ARGV[1] holds the writer's place. Returns ms until it expires, or false. */
export const WRITE_GET_LUA = `${WRITER_LUA}
if not held then return false end
return string.format('%.0f', tonumber(place[2]) - now)
`;
