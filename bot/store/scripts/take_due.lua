-- Takes an envelope of the outbox whose time has come, for one process: its next try moves a lease
-- ahead, so a process that dies with it in hand leaves it to be tried again after the lease. 1 when
-- taken, 0 when another process took it first or it is not due.
local outbox = KEYS[1]
local args = cjson.decode(ARGV[1])
local due = redis.call('ZSCORE', outbox, args.id)
if not due or tonumber(due) > tonumber(args.now) then return 0 end
redis.call('ZADD', outbox, tonumber(args.now) + tonumber(args.lease), args.id)
return 1
