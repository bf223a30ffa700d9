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
 * KEYS[3] the waiter set (member: a waiting process's wake channel, score: when the entry lapses)
 * ARGV[1] identity   ARGV[2] lease duration ms   ARGV[3] permits   ARGV[4] backstop expiry ms
 * ARGV[5] the caller's wake channel ('' when it will not wait)   ARGV[6] how long its entry lasts, ms
 * Expired holders are dropped first. Refused, a caller that will wait is queued (or requeued
 * at the back) in the waiter set; granted, it leaves it. Returns {'ok', token} | {'full', ms
 * until the first holder expires} | {'shape', the stored permit count}.
 */
export const SEMAPHORE_ACQUIRE_LUA = `${NOW_LUA}
local permits = redis.call('HGET', KEYS[1], 'permits')
if permits and permits ~= ARGV[3] then return {'shape', permits} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  if ARGV[5] ~= '' then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), ARGV[5])
    backstop(KEYS[3], ARGV[6])
  end
  return {'full', first_expiry(KEYS[2])}
end
if not permits then redis.call('HSET', KEYS[1], 'permits', ARGV[3]) end
local token = redis.call('HINCRBY', KEYS[1], 'token', 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
backstop(KEYS[2], ARGV[4])
if ARGV[5] ~= '' then redis.call('ZREM', KEYS[3], ARGV[5]) end
return {'ok', tostring(token)}
`;

/**
 * Wakes waiting processes after releases that found waiters (a release itself is a plain
 * ZREM: see redis-semaphore.ts): up to ARGV[2] of the longest-queued ones, no more than there
 * are free permits now, lapsed entries dropped. Each is dequeued; it queues again if refused.
 * KEYS[1] the holder set   KEYS[2] the waiter set
 * ARGV[1] permits   ARGV[2] how many releases this answers   ARGV[3] message
 * Returns how many were woken.
 */
export const SEMAPHORE_WAKE_LUA = `${NOW_LUA}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local free = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
local n = math.min(free, tonumber(ARGV[2]))
if n <= 0 then return 0 end
local first = redis.call('ZRANGE', KEYS[2], 0, n - 1)
for _, channel in ipairs(first) do
  redis.call('ZREM', KEYS[2], channel)
  redis.call('PUBLISH', channel, ARGV[3])
end
return #first
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
