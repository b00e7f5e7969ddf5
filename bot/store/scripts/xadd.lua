-- Adds an entry to a shared stream and files it under its conversation.
local stream = KEYS[1]
local entries = KEYS[2]  -- the conversation's index of stream entries
local args = cjson.decode(ARGV[1])
local now = args.now
local ttl = args.ttl
local kept = args.kept  -- how long the stream is kept ('' for all of it)
local fields = args.fields  -- field, value, ...

local id
if kept == '' then id = redis.call('XADD', stream, '*', unpack(fields))
else id = redis.call('XADD', stream, 'MAXLEN', '~', kept, '*', unpack(fields)) end
return indexed(entries, stream, id, now, ttl)
