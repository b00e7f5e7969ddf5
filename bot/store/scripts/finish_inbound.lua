-- Records a handled message, queues its replies and any hand-off, counts it, and acknowledges the
-- entry: all or nothing. 0 when it was done before, or its conversation is gone (erased or
-- expired: it takes nothing more, and the entry is dropped). The confirmation of "forget me" is
-- not filed under the conversation: it is sent after the erasure, with the address it carries.
local conversation = KEYS[1]
local inbound = KEYS[2]
local outbound = KEYS[3]
local transcript = KEYS[4]
local queue = KEYS[5]
local console = KEYS[6]
local recent = KEYS[7]
local counts_all = KEYS[8]  -- the day's counters for everyone
local counts_ngo = KEYS[9]  -- and for the conversation's NGO (the same key when it has none)
local entries = KEYS[10]
local forgetting = KEYS[11]  -- conversations to erase
local failures = KEYS[12]
local args = cjson.decode(ARGV[1])
local group = args.group
local entry = args.entry
local seq = tonumber(args.seq)
local now = args.now
local ttl = args.ttl
local lines = args.lines  -- transcript lines, sealed
local replies = args.replies  -- sealed, '' for none
local score = args.score  -- the hand-off's place in the queue, '' for no hand-off
local conv = args.conv
local channel = args.channel
local risk = args.risk
local language = args.language
local transcript_length = tonumber(args.transcript_length)
local forget = args.forget  -- '1': the conversation is to be erased
local handoff = args.handoff  -- sealed
local reason = args.reason
local console_event = args.console_event  -- '' or 'message'
local console_backlog = args.console_backlog
local country = args.country
local recent_kept = tonumber(args.recent_kept)
local exit = args.exit  -- '1': a quick exit
local address = args.address  -- sealed, with forget
local counted = args.counted  -- counters to add 1 to
local opening = args.opening  -- counters to add 1 to if the conversation was not counted yet
local counts_kept = args.counts_kept
local handoff_from = args.handoff_from  -- the states a hand-off may start from

local function dropped()
  redis.call('XACK', inbound, group, entry)
  redis.call('XDEL', inbound, entry)
  redis.call('HDEL', failures, inbound .. ' ' .. entry)
end

redis.call('ZREM', entries, inbound .. ' ' .. entry)
local done = tonumber(redis.call('HGET', conversation, 'in_done') or '0')
if done >= seq or redis.call('EXISTS', conversation) == 0 then
  dropped()
  return 0
end
redis.call('HSET', conversation, 'in_done', seq, 'active', now)
redis.call('ZADD', recent, now, conv)
redis.call('ZREMRANGEBYRANK', recent, 0, -recent_kept - 1)
if language ~= '' then redis.call('HSET', conversation, 'language', language) end
for _, line in ipairs(lines) do redis.call('RPUSH', transcript, line) end
redis.call('LTRIM', transcript, -transcript_length, -1)
if replies ~= '' then
  local out = redis.call('HINCRBY', conversation, 'out_seq', 1)
  local id = redis.call('XADD', outbound, '*', 'conv', conv, 'seq', out, 'channel', channel,
                        'reply_to', seq, 'replies', replies, 'forget', forget,
                        'exit', exit, 'address', address, 'received', entry)
  if forget == '' then indexed(entries, outbound, id, now, ttl) end
end
if forget ~= '' then
  redis.call('HSET', conversation, 'forgetting', '1')
  redis.call('SADD', forgetting, conv)
end
local state = redis.call('HGET', conversation, 'state') or 'bot'
local may_hand_off = false
for _, start in ipairs(handoff_from) do may_hand_off = may_hand_off or start == state end
if score ~= '' and may_hand_off then
  redis.call('HSET', conversation, 'state', 'waiting', 'risk', risk, 'waiting_since', now,
             'handoff', handoff, 'reason', reason, 'country', country)
  redis.call('HDEL', conversation, 'operator', 'claimed_at', 'waited')
  redis.call('ZADD', queue, score, conv)
  indexed(entries, console, redis.call('XADD', console, 'MAXLEN', '~', console_backlog, '*',
          'kind', 'queued', 'conv', conv, 'risk', risk), now, ttl)
end
if console_event ~= '' then
  indexed(entries, console, redis.call('XADD', console, 'MAXLEN', '~', console_backlog, '*',
          'kind', console_event, 'conv', conv), now, ttl)
end
local counters = {}
for _, counter in ipairs(counted) do counters[#counters + 1] = counter end
if #opening > 0 and redis.call('HSETNX', conversation, 'counted', '1') == 1 then
  for _, counter in ipairs(opening) do counters[#counters + 1] = counter end
end
if #counters > 0 then
  local whose = counts_all == counts_ngo and {counts_all} or {counts_all, counts_ngo}
  for _, key in ipairs(whose) do
    for _, counter in ipairs(counters) do redis.call('HINCRBY', key, counter, 1) end
    redis.call('EXPIRE', key, counts_kept)
  end
end
redis.call('EXPIRE', conversation, ttl)
redis.call('EXPIRE', transcript, ttl)
dropped()
return 1
