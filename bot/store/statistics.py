"""The reports' anonymous counts as stored: per day (ICT), for everyone and for each NGO
(bot/counts.py says what is counted)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import counts
from bot.store.conversations import Conversations
from bot.store.keys import STATS_KEPT_SECONDS, stats_key, waits_key


def count_answered(pipe: Any, conversation: dict[str, str], at: float, waited: float) -> None:
    """Counts an answered hand-off and how long it waited, in the claim's transaction."""
    day = counts.day(at)
    referral = conversation.get("referral", "")
    for who in counts.whom(referral):
        for counter in counts.fields("answered", referral, conversation):
            pipe.hincrby(stats_key(day, who), counter, 1)
        pipe.expire(stats_key(day, who), STATS_KEPT_SECONDS)
        pipe.rpush(waits_key(day, who), round(waited, 1))
        pipe.expire(waits_key(day, who), STATS_KEPT_SECONDS)


class Statistics(Conversations):
    """Reads the counts."""

    async def statistics(self, days: Sequence[str], referral: str = "") -> list[counts.Day]:
        """The counts of each day, for everyone or for one NGO's code."""
        who = referral or counts.ALL
        async with self.redis.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hgetall(stats_key(day, who))
                pipe.lrange(waits_key(day, who), 0, -1)
            found: list[Any] = await pipe.execute()
        return [counts.Day.read(day, found[2 * i], found[2 * i + 1]) for i, day in enumerate(days)]
