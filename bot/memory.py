"""Redis's memory: Redis refuses writes when its data reaches `maxmemory` (nothing is evicted,
bot/redis_server.py), so the worker warns well before: a log line and, for supervisors, a banner in
the console while the data is at ALERT_SHARE of the limit or more."""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from bot.store import PREFIX

log = logging.getLogger(__name__)

ALERT_SHARE = 0.8
CHECK_SECONDS = 30.0
# Set by the worker while the memory is high, read by the console: the share in percent.
ALERT = f"{PREFIX}:alert:memory"


async def check(redis: aioredis.Redis) -> int:
    """Warns when Redis's data is at ALERT_SHARE of maxmemory or more; 1 when it is, else 0."""
    found = await redis.info("memory")
    used, limit = int(found.get("used_memory", 0)), int(found.get("maxmemory", 0))
    if not limit or used < ALERT_SHARE * limit:
        return 0
    percent = round(100 * used / limit)
    log.warning(
        "Redis holds %d %% of its maxmemory (%d of %d MB): at 100 %% it refuses new messages. "
        "Raise REDIS_MAXMEMORY, or shorten CONVERSATION_TTL_SECONDS.",
        percent,
        used // 2**20,
        limit // 2**20,
    )
    await redis.set(ALERT, percent, ex=int(3 * CHECK_SECONDS))
    return 1


async def alert(redis: aioredis.Redis) -> int | None:
    """The share of maxmemory in use (percent) while it is high, else None."""
    found = await redis.get(ALERT)
    return int(found) if found else None
