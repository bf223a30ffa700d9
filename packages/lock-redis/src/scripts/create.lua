-- baton: create a leader election record if the key is absent ("set if absent").
--
-- KEYS[1]  the record hash            KEYS[2]  the fencing counter (same hash slot)
-- ARGV[1]  version of the new record (opaque, unique)
-- ARGV[2]  holderIdentity   ARGV[3] leaseDurationMs   ARGV[4] acquireTime   ARGV[5] renewTime
-- ARGV[6]  leaderTransitions   ARGV[7] requested fencingToken
-- ARGV[8]  expiry of the key in ms (a backstop well beyond the lease)
-- ARGV[9]  channel to publish the new record on
--
-- Returns {'ok', storedFencingToken} | {'conflict', currentVersion} | {'invalid', detail}.
-- Never writes over a key that exists, whatever it holds.

local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' then
  if kind ~= 'hash' then
    return {'invalid', 'the key holds a ' .. kind .. ', not a hash'}
  end
  return {'conflict', redis.call('HGET', KEYS[1], 'version') or ''}
end

-- The counter is at least every token ever stored. An acquisition (a non-empty holder)
-- stores max(requested, INCR counter), so tokens only grow even after the record key was
-- deleted or expired; a released record keeps the token it was given.
local requested = ARGV[7]
local token = requested
if ARGV[2] ~= '' then
  local counted = redis.call('INCR', KEYS[2])
  if tonumber(requested) > counted then
    redis.call('SET', KEYS[2], requested)
  else
    token = string.format('%.0f', counted)
  end
else
  local counter = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  if tonumber(requested) > counter then
    redis.call('SET', KEYS[2], requested)
  end
end

-- Publish before writing: a PUBLISH refused by an ACL then leaves the record as it was.
-- (Subscribers cannot act on the message before this script has finished.)
redis.call('PUBLISH', ARGV[9], cjson.encode({
  holderIdentity = ARGV[2], leaseDurationMs = ARGV[3], acquireTime = ARGV[4], renewTime = ARGV[5],
  leaderTransitions = ARGV[6], fencingToken = token, version = ARGV[1]}))
redis.call('HSET', KEYS[1],
  'holderIdentity', ARGV[2], 'leaseDurationMs', ARGV[3], 'acquireTime', ARGV[4], 'renewTime', ARGV[5],
  'leaderTransitions', ARGV[6], 'fencingToken', token, 'version', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {'ok', token}
