-- Appends an audit line about a conversation and files it under the conversation. The index's
-- score is the line's id as a number (ms * 1000 + sequence), so pages of one conversation's lines
-- follow the log's order. A conversation that is gone (erased, or expired) is not named: nothing
-- of it comes back.
local audit = KEYS[1]
local index = KEYS[2]  -- the conversation's audit lines
local conversation = KEYS[3]
local args = cjson.decode(ARGV[1])
local now = tonumber(args.now)
local kept = tonumber(args.kept)  -- seconds a line is kept
local conv = args.conv
local fields = args.fields  -- field, value, ...

local named = {'conv', ''}
if redis.call('EXISTS', conversation) == 1 then named[2] = conv end
for _, part in ipairs(fields) do named[#named + 1] = part end
local id = redis.call('XADD', audit, '*', unpack(named))
if named[2] == '' then return id end
local ms, seq = string.match(id, '(%d+)-(%d+)')
redis.call('ZADD', index, tonumber(ms) * 1000 + tonumber(seq), id)
redis.call('ZREMRANGEBYSCORE', index, '-inf', (now - kept) * 1000000)
redis.call('EXPIRE', index, kept)
return id
