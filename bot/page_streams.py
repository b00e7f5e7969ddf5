"""The web chat pages' streams of replies, for many open pages at once.

Each open page holds a server-sent event stream. Blocking one Redis connection per page (XREAD
BLOCK) ran the web process out of connections at about a hundred pages, and then its webhooks and
health check failed too. Instead, one subscriber per web process listens on a pub/sub channel that
the senders publish to when a conversation's web stream gets replies (bot/store.py, in the same
step as the replies), and wakes the pages of that conversation; a page then reads its stream with
a short XRANGE on the shared, bounded pool. Pub/sub may lose a message (a reconnect): every page
also looks every HEARTBEAT_SECONDS, and all look again when the subscriber reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.backoff import REDIS, Backoff
from bot.store import WEB_REPLIED

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0


Entry = tuple[str, dict[str, str]]


async def follow(
    client: aioredis.Redis, key: str, position: str, woken: asyncio.Event, seconds: float
) -> AsyncIterator[list[Entry]]:
    """A stream's entries after `position` as they come, read when `woken` is set (or every
    `seconds`, yielding an empty list then); nothing blocks a connection while it waits. The
    caller registers `woken` where it will be set before following."""
    while True:
        # Cleared before reading: an entry added in between sets it again for the next wait.
        woken.clear()
        found = await client.xrange(key, f"({position}", "+", count=100)
        if found:
            position = found[-1][0]
            yield found
            continue
        try:
            await asyncio.wait_for(woken.wait(), seconds)
        except TimeoutError:
            yield []


class PageStreams:
    """Wakes the open pages of a conversation when its replies come."""

    def __init__(self, client: aioredis.Redis) -> None:
        """Subscribes through the client's pool (one connection, held)."""
        self.redis = client
        self._pages: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the subscriber (in the running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        """Stops the subscriber."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def open_pages(self) -> int:
        """How many pages wait for replies now."""
        return sum(len(events) for events in self._pages.values())

    @contextlib.contextmanager
    def watching(self, conv: str) -> Iterator[asyncio.Event]:
        """An event set whenever the conversation may have new replies, while the page is open."""
        woken = asyncio.Event()
        self._pages[conv].add(woken)
        try:
            yield woken
        finally:
            self._pages[conv].discard(woken)
            if not self._pages[conv]:
                del self._pages[conv]

    async def replies(
        self, key: str, conv: str, position: str, seconds: float = HEARTBEAT_SECONDS
    ) -> AsyncIterator[list[Entry]]:
        """The entries of the web stream `key` after `position`, as they come; an empty list
        after `seconds` without any (time for a keep-alive)."""
        with self.watching(conv) as woken:
            async for found in follow(self.redis, key, position, woken, seconds):
                yield found

    def _wake(self, conv: str | None = None) -> None:
        """Wakes the pages of one conversation, or every page."""
        groups = [self._pages.get(conv, set())] if conv else list(self._pages.values())
        for events in groups:
            for event in events:
                event.set()

    async def _listen(self) -> None:
        """The one subscriber; reconnects after a Redis outage and then wakes every page."""
        backoff = Backoff(*REDIS)
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(WEB_REPLIED)
                self._wake()  # what came while it was away
                backoff.reset()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._wake(str(message["data"]))
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                log.warning("page streams: Redis unavailable (%s)", type(error).__name__)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await backoff.wait()
