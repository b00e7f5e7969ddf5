-- Marks replies delivered and acknowledges them; for the web chat, delivering is adding them to
-- the page's stream, in the same step. 0 when done before.
local conversation = KEYS[1]
local outbound = KEYS[2]
local web = KEYS[3]  -- the page's stream of replies
local entries = KEYS[4]
local failures = KEYS[5]
local args = cjson.decode(ARGV[1])
local group = args.group
local entry = args.entry
local seq = tonumber(args.seq)
local replies = args.replies  -- sealed, '' when the channel is not the web chat
local ttl = args.ttl
local web_backlog = args.web_backlog
local reply_to = args.reply_to
local erased_web = args.erased_web  -- how long an erased conversation's page stream stays
local replied = args.replied  -- the pub/sub channel that tells the web processes
local conv = args.conv

redis.call('ZREM', entries, outbound .. ' ' .. entry)
redis.call('HDEL', failures, outbound .. ' ' .. entry)
local gone = redis.call('EXISTS', conversation) == 0
if not gone then
  local done = tonumber(redis.call('HGET', conversation, 'out_done') or '0')
  if done >= seq then
    redis.call('XACK', outbound, group, entry)
    redis.call('XDEL', outbound, entry)
    return 0
  end
  redis.call('HSET', conversation, 'out_done', seq)
end
if replies ~= '' then
  redis.call('XADD', web, 'MAXLEN', '~', web_backlog, '*', 'reply_to', reply_to, 'replies', replies)
  redis.call('EXPIRE', web, gone and erased_web or ttl)
  redis.call('PUBLISH', replied, conv)
end
redis.call('XACK', outbound, group, entry)
redis.call('XDEL', outbound, entry)
return 1
