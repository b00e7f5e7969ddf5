"""Rasa's Redis lock store, following the primary through a Sentinel failover (rasa_plugins/
sentinel.py). Rasa loads it by module path (endpoints.yml, lock_store: type).

A message holds a ticket of its conversation's lock while Rasa handles it (Rasa's ticket lock).
Rasa's tickets live a minute, so a process that died or was cut off from the network while it
handled a message held up the conversation's next one, on another host, for a minute (the cluster
test saw it). Here a ticket lives TICKET_SECONDS and the process renews it while it waits or works:
a ticket nobody renews is gone within seconds, and a slow message keeps its ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from hotline.redis_sentinels import sentinels_of
from rasa_plugins.sentinel import primary

TICKET_SECONDS = 10.0


class FollowingRedisLockStore(RedisLockStore):
    """RedisLockStore; with `sentinels` set, on the primary the Sentinels name; tickets renewed."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Reads endpoints.yml's lock_store section as Rasa's own Redis lock store does."""
        options = dict(endpoint_config.kwargs)
        sentinels = sentinels_of(options.pop("sentinels", ""))
        master_name = str(options.pop("master_name", "") or "")
        if "port" in options:
            options["port"] = int(options["port"])
        if "db" in options:
            options["db"] = int(options["db"])
        super().__init__(host=endpoint_config.url or "localhost", **options)
        if sentinels:
            self.red = primary(
                sentinels,
                master_name,
                options.get("username"),
                options.get("password"),
                db=int(options.get("db", 1)),
            )
        self.ticket_seconds = TICKET_SECONDS

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = TICKET_SECONDS,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, the ticket renewed every third of its life until it is given
        back (`lock_lifetime` is not used: the ticket lives `ticket_seconds`)."""
        ticket = self.issue_ticket(conversation_id, self.ticket_seconds)
        renewing = asyncio.create_task(self._renew(conversation_id, ticket))
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            renewing.cancel()
            self.cleanup(conversation_id, ticket)

    async def _renew(self, conversation_id: str, number: int) -> None:
        while True:
            await asyncio.sleep(self.ticket_seconds / 3)
            try:
                lock = self.get_lock(conversation_id)
                tickets = lock.tickets if lock else []
                ticket = next((ticket for ticket in tickets if ticket.number == number), None)
                if lock and ticket:
                    ticket.expires = time.time() + self.ticket_seconds
                    self.save_lock(lock)
            except (redis.ConnectionError, redis.TimeoutError):
                continue  # Redis away: tried again at the next renewal
