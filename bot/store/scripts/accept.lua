-- Queues a received message: -1 when too many wait to be handled, false for a replay, else the
-- entry's id. The first message of a conversation creates it in the state 'bot'.
local seen = KEYS[1]  -- the event's replay marker
local conversation = KEYS[2]
local inbound = KEYS[3]
local address = KEYS[4]
local messages = KEYS[5]  -- the chat's message ids that may be deleted
local ngos = KEYS[6]  -- registered referral codes
local entries = KEYS[7]
local args = cjson.decode(ARGV[1])
local now = args.now
local ttl = args.ttl
local seen_ttl = args.seen_ttl
local channel = args.channel
local kind = args.kind
local text = args.text  -- sealed
local referral = args.referral
local sealed_address = args.address
local conv = args.conv
local message_id = args.message_id  -- '' when the channel can't delete it
local deletable = args.deletable  -- seconds a message may be deleted
local backlog = tonumber(args.backlog)
local cut = args.cut  -- '1' when the text was cut
local media = args.media  -- sealed, '' for none

if redis.call('XLEN', inbound) >= backlog then return -1 end
if not redis.call('SET', seen, '1', 'NX', 'EX', seen_ttl) then return false end
local seq = redis.call('HINCRBY', conversation, 'in_seq', 1)
if redis.call('HSETNX', conversation, 'state', 'bot') == 1 then
  redis.call('HSET', conversation, 'channel', channel, 'created', now, 'in_done', 0,
             'out_seq', 0, 'out_done', 0)
end
if referral ~= '' and redis.call('SISMEMBER', ngos, referral) == 1 then
  redis.call('HSETNX', conversation, 'referral', referral)
end
redis.call('HSET', conversation, 'active', now)
redis.call('EXPIRE', conversation, ttl)
redis.call('SET', address, sealed_address, 'EX', ttl)
if message_id ~= '' then
  redis.call('ZADD', messages, now, message_id)
  redis.call('ZREMRANGEBYSCORE', messages, '-inf', tonumber(now) - tonumber(deletable))
  redis.call('EXPIRE', messages, deletable)
end
local id = redis.call('XADD', inbound, '*', 'conv', conv, 'seq', seq, 'channel', channel,
                      'kind', kind, 'text', text, 'cut', cut, 'media', media)
return indexed(entries, inbound, id, now, ttl)
