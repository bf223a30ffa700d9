// The Lua source of the lean `update`: a compare-and-swap on the version that sets only the
// fields named, embedded as a string so that bundlers carry it. Redis runs exactly this text
// (test/scripts.test.ts checks its SHA1 on the server).
export const PATCH_LUA = `-- baton: patch a leader election record — compare-and-swap on the version, set the fields named.
--
-- For an update on top of the caller's own last write (a renewal, a release): the caller
-- knows the stored record, since the version it wrote is still there, so nothing is read
-- but the version, the change message comes ready-made, and the fencing counter is left
-- alone (the token does not change). Anything else goes through write.lua.
--
-- KEYS[1]  the record hash            KEYS[2]  the fencing counter (not touched)
-- ARGV[1]  expected (current) version
-- ARGV[2]  expiry of the key in ms, or '' to leave the key's expiry as it is
-- ARGV[3]  channel to publish the new record on   ARGV[4] the new record as the change message
-- ARGV[5]… field, value pairs to set, the new version among them
--
-- Returns {'ok'} | {'conflict', currentVersion} | {'notfound'} | {'invalid', detail}.

local stored = redis.pcall('HGET', KEYS[1], 'version')
if type(stored) == 'table' and stored.err then
  if string.find(stored.err, 'WRONGTYPE', 1, true) then
    return {'invalid', 'the key holds a ' .. redis.call('TYPE', KEYS[1]).ok .. ', not a hash'}
  end
  return stored -- an ACL refusal and the like: the error as it is
end
if stored ~= ARGV[1] then
  if stored then return {'conflict', stored} end
  if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
  return {'invalid', 'the hash has no version field'}
end

-- Publish before writing: a PUBLISH refused by an ACL then leaves the record as it was.
redis.call('PUBLISH', ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {'ok'}
`;
