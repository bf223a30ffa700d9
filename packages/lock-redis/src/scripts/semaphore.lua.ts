// The Lua sources of the native semaphore (see ../redis-semaphore.ts), embedded as strings so
// bundlers carry them: nothing is read from disk at run time.

/**
 * The first lines of every primitive script: the server's clock in ms, the only clock these
 * scripts judge expiry by. (Scripts that read TIME and then write are replicated by their
 * effects, the only mode of Redis 7; older servers are asked for it.)
 */
export const NOW_LUA = `if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- Ms until the first member of a holder set expires ('0' when it is empty).
local function first_expiry(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first == 0 then return '0' end
  return string.format('%.0f', tonumber(first[2]) - now)
end
-- The holder set outlives its longest lease (a backstop for holders that vanished).
local function backstop(key, ms)
  if redis.call('PTTL', key) < tonumber(ms) then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * One try at a permit.
 * KEYS[1] the semaphore hash (fields `permits`, `token`; never expires: the token counter)
 * KEYS[2] the holder set (member: holder identity, score: expiry on the server's clock)
 * ARGV[1] identity   ARGV[2] lease duration ms   ARGV[3] permits   ARGV[4] backstop expiry ms
 * Expired holders are dropped first. Returns {'ok', token} | {'full', ms until the first
 * holder expires} | {'shape', the stored permit count}.
 */
export const SEMAPHORE_ACQUIRE_LUA = `${NOW_LUA}
local permits = redis.call('HGET', KEYS[1], 'permits')
if permits and permits ~= ARGV[3] then return {'shape', permits} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {'full', first_expiry(KEYS[2])} end
if not permits then redis.call('HSET', KEYS[1], 'permits', ARGV[3]) end
local token = redis.call('HINCRBY', KEYS[1], 'token', 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
backstop(KEYS[2], ARGV[4])
return {'ok', tostring(token)}
`;

/**
 * Renews one member of a holder set (a permit, a read).
 * KEYS[1] the holder set   ARGV[1] identity   ARGV[2] lease duration ms   ARGV[3] backstop expiry ms
 * Returns 'ok' | 'gone' (absent, or expired: then dropped).
 */
export const HOLDER_RENEW_LUA = `${NOW_LUA}
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) <= now then
  if expiry then redis.call('ZREM', KEYS[1], ARGV[1]) end
  return 'gone'
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
backstop(KEYS[1], ARGV[3])
return 'ok'
`;

/**
 * Releases one member of a holder set and tells the waiters.
 * KEYS[1] the holder set   ARGV[1] identity   ARGV[2] channel   ARGV[3] message
 * Returns 'ok' | 'gone'.
 */
export const HOLDER_RELEASE_LUA = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 'gone' end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 'ok'
`;

/**
 * Whether one member of a holder set still holds.
 * KEYS[1] the holder set   ARGV[1] identity
 * Returns ms until it expires, or false when it does not hold.
 */
export const HOLDER_GET_LUA = `${NOW_LUA}
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) <= now then return false end
return string.format('%.0f', tonumber(expiry) - now)
`;
