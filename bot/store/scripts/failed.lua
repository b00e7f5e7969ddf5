-- Counts a failed attempt at a stream entry. Below `attempts` the entry stays pending, to be tried
-- again; at `attempts` it is buried: a copy goes to the dead letters (filed under its
-- conversation, for supervisors to send again), the entry is acknowledged, and when it was next
-- in its conversation the conversation's later entries go on without it. 0: kept; 1: buried;
-- -1: dropped, because its conversation is gone (erased or expired) and nothing of it may stay.
local stream = KEYS[1]
local failures = KEYS[2]
local dead = KEYS[3]
local conversation = KEYS[4]
local entries = KEYS[5]
local args = cjson.decode(ARGV[1])
local group = args.group
local entry = args.entry
local attempts = tonumber(args.attempts)
local conv = args.conv
local seq = tonumber(args.seq)  -- nil for an entry that names none
local done_field = args.done_field  -- in_done or out_done
local error = args.error
local fields = args.fields  -- the entry's fields, as a JSON object
local now = args.now
local ttl = args.ttl
local dead_backlog = args.dead_backlog

local failure = stream .. ' ' .. entry
local count = redis.call('HINCRBY', failures, failure, 1)
if count < attempts then return 0 end
redis.call('HDEL', failures, failure)
redis.call('XACK', stream, group, entry)
redis.call('XDEL', stream, entry)
redis.call('ZREM', entries, failure)
if conv == '' or redis.call('EXISTS', conversation) == 0 then return -1 end
if seq and tonumber(redis.call('HGET', conversation, done_field) or '0') == seq - 1 then
  redis.call('HSET', conversation, done_field, seq)
end
local id = redis.call('XADD', dead, 'MAXLEN', '~', dead_backlog, '*', 'stream', stream,
                      'group', group, 'entry', entry, 'conv', conv, 'at', now,
                      'attempts', count, 'error', error, 'fields', fields)
indexed(entries, dead, id, now, ttl)
return 1
