"""The console's live events for every open console of a web process, from one reader.

Each open console holds a server-sent event stream of the console stream (`hl:console`). One task
per web process follows that stream (XREAD BLOCK on one connection) and wakes every open console;
each then reads what is new to it with a short XRANGE on the shared, bounded pool, so open consoles
hold no Redis connection while they wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.page_streams import HEARTBEAT_SECONDS, Entry, follow
from bot.store import CONSOLE

log = logging.getLogger(__name__)
# The reader's XREAD waits at most this long, less than a client waits for an answer
# (bot.redis_client.ANSWER_SECONDS), then asks again from where it was.
BLOCK_MS = 1000


class ConsoleFeed:
    """Wakes the open consoles when the console stream gets an event."""

    def __init__(self, client: aioredis.Redis) -> None:
        """Follows the stream through the client's pool (one connection, held)."""
        self.redis = client
        self._open: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the reader in the running event loop (the first open console does); it ends
        with the process."""
        if self._task is None:
            self._task = asyncio.create_task(self._read())

    async def events(
        self, position: str, seconds: float = HEARTBEAT_SECONDS
    ) -> AsyncIterator[list[Entry]]:
        """The console's events after `position`, as they come; an empty list after `seconds`
        without any."""
        self.start()
        woken = asyncio.Event()
        self._open.add(woken)
        try:
            async for found in follow(self.redis, CONSOLE, position, woken, seconds):
                yield found
        finally:
            self._open.discard(woken)

    async def newest(self) -> str:
        """The console stream's newest id, read before a page's data, so that the page's live
        updates start from there and miss nothing that happened while it loaded."""
        found = await self.redis.xrevrange(CONSOLE, count=1)
        return str(found[0][0]) if found else "0-0"

    def _wake(self) -> None:
        for woken in self._open:
            woken.set()

    async def _read(self) -> None:
        """The one reader; after a Redis outage it starts again from the newest event and wakes
        every console (each reads from where it was)."""
        pause = 0.2
        position = ""
        while True:
            try:
                # From a known id, not "$": nothing added between two reads is missed.
                position = position or await self.newest()
                found = await self.redis.xread({CONSOLE: position}, count=100, block=BLOCK_MS)
                pause = 0.2
                if found:
                    position = found[0][1][-1][0]
                    self._wake()
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                log.warning("console feed: Redis unavailable (%s)", type(error).__name__)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                position = ""
                self._wake()
