"""What every part of the store shares: the Redis client, the sealer, the scripts, and reading a
conversation."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from bot.privacy import conversation_id
from bot.store.keys import (
    CONSOLE,
    CONSOLE_BACKLOG,
    address_key,
    conversation_key,
    entries_key,
    notes_key,
    transcript_key,
)
from bot.store.scripts import Scripts
from bot.store.states import State
from hotline.sealer import Sealer


def now() -> float:
    """The time as stored: seconds since 1970, to the millisecond."""
    return round(time.time(), 3)


class Conversations:
    """Reads conversations; the other parts of the store build on it."""

    def __init__(
        self,
        client: aioredis.Redis,
        id_secret: bytes,
        message_key: bytes,
        ttl: int,
        wait_replicas: int = 0,
    ) -> None:
        """Uses a client created with decode_responses=True; `ttl`: how long a conversation is
        kept after its last message; `wait_replicas`: how many replicas must hold an accepted
        message before it is acknowledged."""
        self.redis = client
        self.wait_replicas = wait_replicas
        # After a wait the replicas did not answer, messages are accepted without one for a while.
        self.unreplicated_until = 0.0
        self.id_secret = id_secret
        self.sealer = Sealer(message_key)
        self.ttl = ttl
        self.scripts = Scripts(client)

    def conversation_id(self, channel: str, user: str) -> str:
        """The pseudonymous id of a channel's user."""
        return conversation_id(self.id_secret, channel, user)

    async def conversation(self, conv: str) -> dict[str, str]:
        """The conversation's hash (empty when unknown or expired)."""
        found: dict[str, str] = await self.redis.hgetall(conversation_key(conv))
        return found

    async def state(self, conv: str) -> State:
        """Who answers the conversation now."""
        return State(await self.redis.hget(conversation_key(conv), "state") or State.BOT)

    async def address(self, conv: str) -> dict[str, Any]:
        """What a channel needs to reply to the conversation."""
        sealed = await self.redis.get(address_key(conv))
        found: dict[str, Any] = self.sealer.open(sealed) if sealed else {}
        return found

    async def transcript(self, conv: str) -> list[dict[str, Any]]:
        """The conversation as stored, decrypted, oldest first."""
        lines = await self.redis.lrange(transcript_key(conv), 0, -1)
        return [self.sealer.open(line) for line in lines]

    async def notes(self, conv: str) -> list[dict[str, Any]]:
        """The operators' notes on the conversation, oldest first."""
        return [self.sealer.open(n) for n in await self.redis.lrange(notes_key(conv), 0, -1)]

    async def handoff(self, conv: str) -> dict[str, Any]:
        """What the bot's hand-off request said: reason, risk, language, country, answers."""
        sealed = await self.redis.hget(conversation_key(conv), "handoff")
        found: dict[str, Any] = self.sealer.open(sealed) if sealed else {}
        return found

    async def add_note(self, conv: str, by: str, text: str) -> None:
        """A private note of an operator on the conversation (never sent to the person); none on
        a conversation that no longer exists."""
        if not await self.redis.exists(conversation_key(conv)):
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            await self._note(pipe, conv, by, text)
            await pipe.execute()

    async def _note(self, pipe: Any, conv: str, by: str, text: str) -> None:
        """Adds a note in a transaction."""
        key = notes_key(conv)
        pipe.rpush(key, self.sealer.seal({"at": now(), "by": by, "text": text}))
        pipe.expire(key, self.ttl)
        await self._console_event(pipe, conv, {"kind": "note", "by": by})

    async def _console_event(self, pipe: Any, conv: str, fields: dict[str, str]) -> None:
        """Tells the console about the conversation, in a transaction."""
        await self._filed(pipe, CONSOLE, conv, {"kind": fields["kind"], "conv": conv, **fields})

    async def _filed(self, pipe: Any, stream: str, conv: str, fields: dict[str, Any]) -> None:
        """Adds a stream entry about the conversation and files it under it, in a transaction."""
        args = {
            "now": now(),
            "ttl": self.ttl,
            "kept": CONSOLE_BACKLOG if stream == CONSOLE else "",
            "fields": [str(part) for item in fields.items() for part in item],
        }
        await self.scripts.run("xadd", [stream, entries_key(conv)], args, client=pipe)
