"""What waits in the queues every process shares, read in one round trip for the metrics
(bot/metrics.py): bounded work however long the streams and the queue are, no scans."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.conversations import Conversations
from bot.store.keys import DEAD_LETTERS, INBOUND, OUTBOUND, QUEUE
from bot.store.states import PRIORITY

# The streams by the name the metrics give them.
STREAMS = {"inbound": INBOUND, "outbound": OUTBOUND}
# A queue score is the risk's priority times this, plus when the hand-off was queued (see
# states.queue_score); a risk outside PRIORITY sorts after them all.
BAND = 10**10
OTHER_RISK = "other"


@dataclass(frozen=True)
class Backlog:
    """How much waits, and for how long."""

    # Per stream: entries not yet handled (handled ones are deleted), and the age in seconds of
    # the oldest (0 when none waits).
    entries: dict[str, int]
    oldest_seconds: dict[str, float]
    # Hand-offs waiting for an operator, by risk.
    handoffs: dict[str, int]
    dead_letters: int


class Backlogs(Conversations):
    """Reads the backlog."""

    async def backlog(self) -> Backlog:
        """The backlog now, by Redis's clock (the streams' ids are its milliseconds)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.time()
            for stream in STREAMS.values():
                pipe.xlen(stream)
                pipe.xrange(stream, count=1)
            bands = [*PRIORITY.items(), (OTHER_RISK, len(PRIORITY))]
            for _, band in bands:
                pipe.zcount(QUEUE, band * BAND, (band + 1) * BAND - 1)
            pipe.xlen(DEAD_LETTERS)
            found = await pipe.execute()
        seconds, micros = found[0]
        at_ms = int(seconds) * 1000 + int(micros) // 1000
        entries, oldest = {}, {}
        for n, name in enumerate(STREAMS):
            entries[name] = int(found[1 + 2 * n])
            first = found[2 + 2 * n]
            oldest[name] = max(0, at_ms - int(first[0][0].split("-")[0])) / 1000 if first else 0.0
        counted = found[1 + 2 * len(STREAMS) : -1]
        handoffs = {risk: int(count) for (risk, _), count in zip(bands, counted, strict=True)}
        return Backlog(entries, oldest, handoffs, int(found[-1]))
