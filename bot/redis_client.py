"""The one way a gateway process connects to Redis: to the server named in the settings, or to
whichever server the Sentinels say is the primary, found again after a failover."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError

from bot.settings import RedisLogin

# Through a restart or a failover a command is tried again for about 10 s, then fails.
RETRIES = 12
# A command waits this long for its answer. Redis answers in milliseconds, and the longest wait
# asked of it is 1 s (WAIT for a replica, the XREADGROUP and XREAD blocks): no answer by then means
# a host that is gone without closing the connection (cut off, not crashed), and the command is
# tried again on the primary the Sentinels name.
ANSWER_SECONDS = 2.0


class _FollowingConnection(SentinelManagedConnection):  # type: ignore[misc]
    """A connection that asks the Sentinels where the primary is each time it connects.

    redis-py 8 reconnects a connection whose command failed to the address it had: a command's
    retries do not go through SentinelManagedConnection.connect. After a failover every retry went
    to the dead primary, and the cluster test saw a worker stand still for half a minute."""

    async def _connect(self) -> None:
        if self.connection_pool.is_master:
            self.host, self.port = await self.connection_pool.get_master_address()
        await super()._connect()


class _BlockingSentinelPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):  # type: ignore[misc]
    """Connections to the Sentinels' primary, bounded, waiting for a free one when all are busy."""


def connect(
    login: RedisLogin, max_connections: int | None = None, wait_seconds: float = 10.0
) -> aioredis.Redis:
    """A client (decode_responses) of the primary. With max_connections its pool is bounded and a
    caller waits up to wait_seconds for a free connection instead of failing."""
    options: dict[str, Any] = {
        "username": login.username,
        "password": login.password,
        "decode_responses": True,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=1), retries=RETRIES),
        # A primary demoted by a failover answers READONLY: try again on the new one.
        "retry_on_error": [ConnectionError, TimeoutError, ReadOnlyError],
    }
    bounded = {"max_connections": max_connections, "timeout": wait_seconds}
    if login.sentinels:
        sentinel = Sentinel(
            list(login.sentinels),
            # A Sentinel on a dead host is skipped for the next one within a second: redis-py 8
            # would otherwise retry it ten times, 5 s each (the cluster test measured 50 s).
            sentinel_kwargs={
                "socket_timeout": 1.0,
                "socket_connect_timeout": 1.0,
                "retry": Retry(NoBackoff(), retries=0),
            },
            socket_timeout=ANSWER_SECONDS,
            socket_connect_timeout=2.0,
            connection_class=_FollowingConnection,
            **options,
        )
        pool_class = _BlockingSentinelPool if max_connections else SentinelConnectionPool
        extra = bounded if max_connections else {}
        client: aioredis.Redis = sentinel.master_for(
            login.master_name, connection_pool_class=pool_class, **extra
        )
        return client
    if max_connections:
        address = {"host": login.host, "port": login.port}
        pool = aioredis.BlockingConnectionPool(**address, **options, **bounded)
        # The client owns the pool: closing it closes the pool.
        bounded_client: aioredis.Redis = aioredis.Redis.from_pool(pool)
        return bounded_client
    return aioredis.Redis(host=login.host, port=login.port, **options)
