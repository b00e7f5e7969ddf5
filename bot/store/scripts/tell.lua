-- Queues replies outside the conversation (not kept in its transcript), after what is already
-- queued. 0 when there is no such conversation.
local conversation = KEYS[1]
local outbound = KEYS[2]
local entries = KEYS[3]
local args = cjson.decode(ARGV[1])
local now = args.now
local replies = args.replies  -- sealed
local conv = args.conv
local ttl = args.ttl

local channel = redis.call('HGET', conversation, 'channel')
if not channel then return 0 end
local out = redis.call('HINCRBY', conversation, 'out_seq', 1)
indexed(entries, outbound, redis.call('XADD', outbound, '*', 'conv', conv, 'seq', out,
        'channel', channel, 'reply_to', '', 'replies', replies), now, ttl)
return 1
