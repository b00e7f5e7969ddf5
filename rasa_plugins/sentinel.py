"""Rasa's side of Redis Sentinel: the stores and the router channel ask the Sentinels for the
primary (REDIS_SENTINELS, REDIS_MASTER_NAME, passed in endpoints.yml and credentials.yml), and
redis-py finds the new primary after a failover. Without Sentinels they connect as Rasa does."""

from __future__ import annotations

import time
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection

DEFAULT_MASTER = "hotline"
# A Sentinel that does not answer within a second is skipped for the next one; a primary that
# does not take a connection within 2 s, or answer a command within 1 s (Rasa's commands never
# block; Redis answers in milliseconds), is asked for again: after a failover, the new one. The
# stores are synchronous: each wait for a dead host holds up every conversation of the process.
TIMEOUTS: dict[str, Any] = {
    "sentinel_kwargs": {"socket_timeout": 1.0, "socket_connect_timeout": 1.0},
    "socket_timeout": 1.0,
    "socket_connect_timeout": 2.0,
}


# A primary that did not take a connection is not tried again for this long unless the Sentinels
# name another: Rasa's stores are synchronous, and every try of a dead host would hold up all the
# process's conversations for the connect timeout while the Sentinels notice it is gone (the
# cluster test saw Rasa stand still for half a minute).
SKIP_FAILED_PRIMARY_SECONDS = 5.0


class FailFastConnection(SentinelManagedConnection):
    """A connection to the primary that fails at once while the last one to it failed just now."""

    def connect_to(self, address: tuple[str, int]) -> None:
        """Connects, or raises ConnectionError without trying when `address` failed just now."""
        failed: dict[tuple[str, int], float] = self.connection_pool.failed
        where = (str(address[0]), int(address[1]))
        since = time.monotonic() - failed.get(where, -SKIP_FAILED_PRIMARY_SECONDS)
        if since < SKIP_FAILED_PRIMARY_SECONDS:
            raise redis.ConnectionError(f"{where} failed {since:.1f} s ago; asking again later")
        try:
            super().connect_to(address)
        except (redis.ConnectionError, redis.TimeoutError):
            failed[where] = time.monotonic()
            raise


class FailFastPool(SentinelConnectionPool):
    """The Sentinels' primary, its connections FailFastConnection."""

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        """Remembers when each address last failed."""
        kwargs.setdefault("connection_class", FailFastConnection)
        super().__init__(service_name, sentinel_manager, **kwargs)
        self.failed: dict[tuple[str, int], float] = {}
        # Connections see the pool through its proxy.
        self.proxy.failed = self.failed


def primary(
    sentinels: tuple[tuple[str, int], ...],
    master_name: str,
    username: str | None,
    password: str | None,
    **options: Any,
) -> redis.Redis:
    """A client of the primary the Sentinels know as master_name (decode_responses)."""
    sentinel = Sentinel(list(sentinels), **TIMEOUTS)
    client: redis.Redis = sentinel.master_for(
        master_name or DEFAULT_MASTER,
        connection_pool_class=FailFastPool,
        username=username,
        password=password,
        decode_responses=True,
        **options,
    )
    return client


def async_primary(
    sentinels: tuple[tuple[str, int], ...],
    master_name: str,
    username: str | None,
    password: str | None,
) -> aioredis.Redis:
    """An asyncio client of the primary the Sentinels know as master_name (decode_responses)."""
    sentinel = AsyncSentinel(list(sentinels), **TIMEOUTS)
    client: aioredis.Redis = sentinel.master_for(
        master_name or DEFAULT_MASTER, username=username, password=password, decode_responses=True
    )
    return client
