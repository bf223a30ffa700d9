/**
 * The guarded-write script, embedded as a string so bundlers carry it (nothing is read from
 * disk at run time).
 *
 * KEYS[1]   the resource's fence key: the highest token that has written (a decimal string)
 * KEYS[2..] the keys the write touches
 * ARGV[1]   the writer's token; ARGV[2] the operation; ARGV[3..] its arguments:
 *   check                      — no write, only the token rule
 *   set   value px|''          — SET KEYS[2] value [PX px]
 *   hset  field value …        — HSET KEYS[2] field value …
 *   del                        — DEL KEYS[2..]
 * Replies {1, token} when the write was applied, {0, highest} when the token is stale (then
 * nothing was written), and an error for a fence key holding something other than a number.
 */
export const GUARDED_WRITE_LUA = `
local token = tonumber(ARGV[1])
local stored = redis.pcall('GET', KEYS[1])
local highest = 0
if type(stored) == 'table' and stored.err then
  return redis.error_reply('BATONFENCE fence key ' .. KEYS[1] .. ' holds a value that is not a token')
end
if stored then
  highest = tonumber(stored)
  if highest == nil then
    return redis.error_reply('BATONFENCE fence key ' .. KEYS[1] .. ' holds a value that is not a token')
  end
end
if token < highest then return {0, stored} end
if token > highest then redis.call('SET', KEYS[1], ARGV[1]) end
local op = ARGV[2]
if op == 'set' then
  if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) else redis.call('SET', KEYS[2], ARGV[3]) end
elseif op == 'hset' then
  redis.call('HSET', KEYS[2], unpack(ARGV, 3))
elseif op == 'del' then
  redis.call('DEL', unpack(KEYS, 2))
end
return {1, ARGV[1]}
`;
