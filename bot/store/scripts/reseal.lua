-- Writes a re-encrypted value only if the value is still the one read (a transcript may have
-- moved on meanwhile).
local key = KEYS[1]
local args = cjson.decode(ARGV[1])
local kind = args.kind  -- string, list or hash
local where = args.where  -- the list's index or the hash's field
local old = args.old
local new = args.new

local now
if kind == 'string' then now = redis.call('GET', key)
elseif kind == 'list' then now = redis.call('LINDEX', key, where)
else now = redis.call('HGET', key, where) end
if now ~= old then return 0 end
if kind == 'string' then redis.call('SET', key, new, 'KEEPTTL')
elseif kind == 'list' then redis.call('LSET', key, where, new)
else redis.call('HSET', key, where, new) end
return 1
