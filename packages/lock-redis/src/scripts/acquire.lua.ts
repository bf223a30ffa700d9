// The Lua source of `acquireIfFree`: takes an absent or released lock in one call, embedded as a string so that bundlers carry it: nothing is read from disk at run
// time. Redis runs exactly this text (test/scripts.test.ts checks its SHA1 on the server).
export const ACQUIRE_LUA = `-- baton: acquireIfFree — take a lock in one call when nobody holds it; never write over a holder.
--
-- KEYS[1]  the record hash            KEYS[2]  the fencing counter (same hash slot)
-- ARGV[1]  version of the new record (opaque, unique)
-- ARGV[2]  holderIdentity (not empty)   ARGV[3] leaseDurationMs   ARGV[4] acquireTime   ARGV[5] renewTime
-- ARGV[6]  leaderTransitions (stored as is when the key is absent)   ARGV[7] requested fencingToken
-- ARGV[8]  expiry of the key in ms (a backstop well beyond the lease)
-- ARGV[9]  channel to publish the new record on
-- ARGV[10] holderIdentity as a JSON string (the message is built without a JSON encoder)
--
-- Absent → stores the record. Released (empty holderIdentity) → stores a new term over it:
-- leaderTransitions one more than the released record's, fencing token
-- max(requested, released token + 1, INCR counter). Held (by anyone, however old) → writes nothing.
-- Returns {'acquired', fencingToken, leaderTransitions}
--       | {'held', version, holderIdentity, leaseDurationMs, acquireTime, renewTime, leaderTransitions, fencingToken}
--       | {'invalid', detail}

local current = redis.pcall('HMGET', KEYS[1], 'version', 'holderIdentity', 'leaseDurationMs', 'acquireTime',
  'renewTime', 'leaderTransitions', 'fencingToken')
if current.err then
  if string.find(current.err, 'WRONGTYPE', 1, true) then
    return {'invalid', 'the key holds a ' .. redis.call('TYPE', KEYS[1]).ok .. ', not a hash'}
  end
  return current -- an ACL refusal and the like: the error as it is
end

local transitions = ARGV[6]
local floor = 0
if not current[1] then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return {'invalid', 'the hash has no version field'}
  end
elseif not current[2] then
  return {'invalid', 'the hash has no holderIdentity field'}
elseif current[2] ~= '' then
  -- Held: the caller decodes (and checks) what is stored.
  return {'held', current[1], current[2], current[3], current[4], current[5], current[6], current[7]}
else
  -- Released: the record must be baton's in full before a new term replaces it.
  local numeric = {'leaseDurationMs', 'acquireTime', 'renewTime', 'leaderTransitions', 'fencingToken'}
  for i = 3, 7 do
    if not current[i] or not string.match(current[i], '^%d+$') then
      return {'invalid', numeric[i - 2] .. ' is not a non-negative integer'}
    end
  end
  transitions = string.format('%.0f', tonumber(current[6]) + 1)
  floor = tonumber(current[7]) + 1
end

-- The token only grows: above the counter (which survives the record's expiry or deletion),
-- above the released record's, and never below what the caller asked for.
local counted = redis.call('INCR', KEYS[2])
local token = math.max(tonumber(ARGV[7]), floor, counted)
if token > counted then
  redis.call('SET', KEYS[2], string.format('%.0f', token))
end
token = string.format('%.0f', token)

-- Publish before writing: a PUBLISH refused by an ACL then leaves the record as it was.
redis.call('PUBLISH', ARGV[9], '{"holderIdentity":' .. ARGV[10] .. ',"leaseDurationMs":"' .. ARGV[3] ..
  '","acquireTime":"' .. ARGV[4] .. '","renewTime":"' .. ARGV[5] .. '","leaderTransitions":"' .. transitions ..
  '","fencingToken":"' .. token .. '","version":"' .. ARGV[1] .. '"}')
redis.call('HSET', KEYS[1], 'holderIdentity', ARGV[2], 'leaseDurationMs', ARGV[3], 'acquireTime', ARGV[4],
  'renewTime', ARGV[5], 'leaderTransitions', transitions, 'fencingToken', token, 'version', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {'acquired', token, transitions}
`;
