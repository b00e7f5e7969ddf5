-- Tells a person still waiting that they are: once `first_after` seconds after the hand-off was
-- queued, then at most every `every` seconds. 0 when not due, or the hand-off is over.
local conversation = KEYS[1]
local outbound = KEYS[2]
local transcript = KEYS[3]
local console = KEYS[4]
local entries = KEYS[5]
local args = cjson.decode(ARGV[1])
local now = tonumber(args.now)
local first_after = tonumber(args.first_after)
local every = tonumber(args.every)
local replies = args.replies  -- sealed
local line = args.line  -- the transcript's line, sealed
local conv = args.conv
local transcript_length = tonumber(args.transcript_length)
local console_backlog = args.console_backlog
local ttl = args.ttl

if redis.call('HGET', conversation, 'state') ~= 'waiting' then return 0 end
local since = tonumber(redis.call('HGET', conversation, 'waiting_since') or now)
local last = tonumber(redis.call('HGET', conversation, 'reminded_at') or '0')
local due = since + first_after
if last >= since then due = math.max(due, last + every) end
if now < due then return 0 end
redis.call('HSET', conversation, 'reminded_at', args.now)
local out = redis.call('HINCRBY', conversation, 'out_seq', 1)
indexed(entries, outbound, redis.call('XADD', outbound, '*', 'conv', conv, 'seq', out,
        'channel', redis.call('HGET', conversation, 'channel'), 'reply_to', '', 'replies', replies),
        args.now, ttl)
redis.call('RPUSH', transcript, line)
redis.call('LTRIM', transcript, -transcript_length, -1)
indexed(entries, console, redis.call('XADD', console, 'MAXLEN', '~', console_backlog, '*',
        'kind', 'reminded', 'conv', conv), args.now, ttl)
return 1
