// The Lua source of `create` and `update`: a write of the record, set if absent or compare-and-swap on its version, embedded as a string so that bundlers carry it: nothing is read from disk at run
// time. Redis runs exactly this text (test/scripts.test.ts checks its SHA1 on the server).
export const WRITE_LUA = `-- baton: write a leader election record — create it if absent, or compare-and-swap it on its version.
--
-- KEYS[1]  the record hash            KEYS[2]  the fencing counter (same hash slot)
-- ARGV[1]  expected (current) version; empty: create, the key must be absent ("set if absent")
-- ARGV[2]  version of the new record (opaque, unique)
-- ARGV[3]  holderIdentity   ARGV[4] leaseDurationMs   ARGV[5] acquireTime   ARGV[6] renewTime
-- ARGV[7]  leaderTransitions   ARGV[8] requested fencingToken
-- ARGV[9]  expiry of the key in ms (a backstop well beyond the lease)
-- ARGV[10] channel to publish the new record on
-- ARGV[11] holderIdentity as a JSON string (the message is built without a JSON encoder)
--
-- Returns {'ok', storedFencingToken} | {'conflict', currentVersion} | {'notfound'} | {'invalid', detail}.
-- Never writes over data that is not a baton record, nor over a key a create did not expect.
-- Every redis.call costs: an update reads once (HMGET), and writes only the fields that change.

local creating = ARGV[1] == ''
local current
if creating then
  local kind = redis.call('TYPE', KEYS[1]).ok
  if kind == 'hash' then
    return {'conflict', redis.call('HGET', KEYS[1], 'version') or ''}
  elseif kind ~= 'none' then
    return {'invalid', 'the key holds a ' .. kind .. ', not a hash'}
  end
else
  current = redis.pcall('HMGET', KEYS[1], 'version', 'holderIdentity', 'fencingToken',
    'leaseDurationMs', 'acquireTime', 'renewTime', 'leaderTransitions')
  if current.err then
    if string.find(current.err, 'WRONGTYPE', 1, true) then
      return {'invalid', 'the key holds a ' .. redis.call('TYPE', KEYS[1]).ok .. ', not a hash'}
    end
    return current -- an ACL refusal and the like: the error as it is
  end
  if not current[1] then
    if redis.call('EXISTS', KEYS[1]) == 0 then
      return {'notfound'}
    end
    return {'invalid', 'the hash has no version field'}
  end
  if current[1] ~= ARGV[1] then
    return {'conflict', current[1]}
  end
  -- The version matches, yet the record must still be ours in full before it is replaced.
  if not current[2] then
    return {'invalid', 'the hash has no holderIdentity field'}
  end
  local numeric = {'fencingToken', 'leaseDurationMs', 'acquireTime', 'renewTime', 'leaderTransitions'}
  for i = 3, 7 do
    if not current[i] or not string.match(current[i], '^%d+$') then
      return {'invalid', numeric[i - 2] .. ' is not a non-negative integer'}
    end
  end
end

-- An acquisition names a holder that differs from the stored one (any holder, on a create),
-- or asks for a new token (the same identity acquiring again after a loss). It stores
-- max(requested, INCR counter), so tokens only grow even after the record key was deleted or
-- expired. A renewal or a release keeps the token it was given; the counter never falls
-- behind a stored token (checked whenever a write stores a token the record did not hold).
local requested = ARGV[8]
local token = requested
local acquisition = ARGV[3] ~= '' and (creating or ARGV[3] ~= current[2] or requested ~= current[3])
if acquisition then
  local counted = redis.call('INCR', KEYS[2])
  if tonumber(requested) > counted then
    redis.call('SET', KEYS[2], requested)
  else
    token = string.format('%.0f', counted)
  end
elseif creating or requested ~= current[3] then
  local counter = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  if tonumber(requested) > counter then
    redis.call('SET', KEYS[2], requested)
  end
end

-- Publish before writing: a PUBLISH refused by an ACL then leaves the record as it was.
-- (Subscribers cannot act on the message before this script has finished.)
redis.call('PUBLISH', ARGV[10], '{"holderIdentity":' .. ARGV[11] .. ',"leaseDurationMs":"' .. ARGV[4] ..
  '","acquireTime":"' .. ARGV[5] .. '","renewTime":"' .. ARGV[6] .. '","leaderTransitions":"' .. ARGV[7] ..
  '","fencingToken":"' .. token .. '","version":"' .. ARGV[2] .. '"}')
if creating then
  redis.call('HSET', KEYS[1], 'holderIdentity', ARGV[3], 'leaseDurationMs', ARGV[4], 'acquireTime', ARGV[5],
    'renewTime', ARGV[6], 'leaderTransitions', ARGV[7], 'fencingToken', token, 'version', ARGV[2])
else
  -- A renewal changes renewTime and version, a release the holder too: only those are sent.
  local changed = {'version', ARGV[2]}
  if ARGV[3] ~= current[2] then changed[#changed + 1] = 'holderIdentity'; changed[#changed + 1] = ARGV[3] end
  if ARGV[4] ~= current[4] then changed[#changed + 1] = 'leaseDurationMs'; changed[#changed + 1] = ARGV[4] end
  if ARGV[5] ~= current[5] then changed[#changed + 1] = 'acquireTime'; changed[#changed + 1] = ARGV[5] end
  if ARGV[6] ~= current[6] then changed[#changed + 1] = 'renewTime'; changed[#changed + 1] = ARGV[6] end
  if ARGV[7] ~= current[7] then changed[#changed + 1] = 'leaderTransitions'; changed[#changed + 1] = ARGV[7] end
  if token ~= current[3] then changed[#changed + 1] = 'fencingToken'; changed[#changed + 1] = token end
  redis.call('HSET', KEYS[1], unpack(changed))
end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return {'ok', token}
`;
