-- Shared by the scripts that add to a shared stream (put before them by bot/store/scripts.py):
-- files the entry under its conversation (`hl:entries:<id>`), dropping what is older than the
-- conversation's time to live.
local function indexed(index, stream, id, now, ttl)
  redis.call('ZADD', index, now, stream .. ' ' .. id)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(now) - tonumber(ttl))
  redis.call('EXPIRE', index, ttl)
  return id
end
