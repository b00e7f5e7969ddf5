-- Sends a dead letter again: its entry goes back on its stream as the conversation's newest, and
-- leaves the dead letters. 0 when it was sent again before; -1 when its conversation is gone.
local dead = KEYS[1]
local conversation = KEYS[2]
local entries = KEYS[3]
local stream = KEYS[4]  -- where the entry was
local args = cjson.decode(ARGV[1])
local id = args.id  -- the dead letter's
local seq_field = args.seq_field  -- in_seq or out_seq
local now = args.now
local ttl = args.ttl

local found = redis.call('XRANGE', dead, id, id)
if #found == 0 then return 0 end
local fields
local parts = found[1][2]
for i = 1, #parts, 2 do
  if parts[i] == 'fields' then fields = cjson.decode(parts[i + 1]) end
end
redis.call('XDEL', dead, id)
redis.call('ZREM', entries, dead .. ' ' .. id)
if redis.call('EXISTS', conversation) == 0 then return -1 end
fields['seq'] = redis.call('HINCRBY', conversation, seq_field, 1)
local flat = {}
for field, value in pairs(fields) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
indexed(entries, stream, redis.call('XADD', stream, '*', unpack(flat)), now, ttl)
return 1
