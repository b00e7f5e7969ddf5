-- Danger said during a hand-off: it becomes immediate, goes to the top of the queue while it waits,
-- and the console is alerted. 0 when there is no hand-off, or this message raised it already.
local conversation = KEYS[1]
local queue = KEYS[2]
local console = KEYS[3]
local entries = KEYS[4]
local args = cjson.decode(ARGV[1])
local now = args.now
local seq = tonumber(args.seq)  -- the message that said it
local conv = args.conv
local console_backlog = args.console_backlog
local top = tonumber(args.top)  -- the queue score of an immediate hand-off queued at time 0
local ttl = args.ttl
local danger_in = args.danger_in  -- the states danger may be raised in

local state = redis.call('HGET', conversation, 'state')
local handed_off = false
for _, start in ipairs(danger_in) do handed_off = handed_off or start == state end
if not handed_off then return 0 end
if tonumber(redis.call('HGET', conversation, 'danger_seq') or '0') >= seq then return 0 end
redis.call('HSET', conversation, 'risk', 'immediate', 'danger_at', now, 'danger_in', state,
           'danger_seq', seq, 'danger_open', '1')
if state == 'waiting' then
  local since = math.floor(tonumber(redis.call('HGET', conversation, 'waiting_since') or now))
  redis.call('ZADD', queue, top + since, conv)
end
local id = redis.call('XADD', console, 'MAXLEN', '~', console_backlog, '*', 'kind', 'danger',
                      'conv', conv, 'risk', 'immediate',
                      'holder', redis.call('HGET', conversation, 'operator') or '', 'state', state)
indexed(entries, console, id, now, ttl)
return 1
