"""Rasa's side of Redis Sentinel: the stores and the router channel ask the Sentinels for the
primary (REDIS_SENTINELS, REDIS_MASTER_NAME, passed in endpoints.yml and credentials.yml), and
redis-py finds the new primary after a failover. Without Sentinels they connect as Rasa does."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

DEFAULT_MASTER = "hotline"
# A Sentinel that does not answer within a second is skipped for the next one.
TIMEOUTS: dict[str, Any] = {"sentinel_kwargs": {"socket_timeout": 1.0}, "socket_timeout": 5.0}


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
