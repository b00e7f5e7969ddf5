"""The inbox and the outbox: received messages queued in order, handled once, answered in order.

- `hl:inbound`: what people sent, each with the conversation's next sequence number;
- `hl:outbound`: what to send back, each with its own per-conversation sequence number.
A worker handles entry n of a conversation only after n-1 (`in_done` / `out_done`), and marks it
done, acknowledges and deletes it in the same atomic step as its effects, so a crash at any point
replays the entry, a replay changes nothing twice, and no handled message stays in a stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import redis.asyncio as aioredis

from bot import counts
from bot.store.conversations import Conversations, now
from bot.store.keys import (
    CONSOLE,
    CONSOLE_BACKLOG,
    DELETABLE_SECONDS,
    ERASED_WEB_SECONDS,
    FAILURES,
    FORGETTING,
    INBOUND,
    INBOUND_BACKLOG,
    MAX_TEXT,
    NGOS,
    OUTBOUND,
    QUEUE,
    RECENT,
    RECENT_KEPT,
    ROUTERS,
    SEEN_SECONDS,
    SENDERS,
    STATS_KEPT_SECONDS,
    TRANSCRIPT_LENGTH,
    WEB_BACKLOG,
    WEB_REPLIED,
    address_key,
    conversation_key,
    entries_key,
    messages_key,
    seen_key,
    stats_key,
    transcript_key,
    web_key,
)
from bot.store.states import queue_score, starts_of
from hotline.understood import Understood

log = logging.getLogger(__name__)
# How long an accepted message waits for the replicas to have it.
REPLICA_WAIT_MS = 1000
# After a wait the replicas missed, how long messages are accepted without waiting.
UNREPLICATED_SECONDS = 10


class Backlogged(RuntimeError):
    """Too many received messages wait to be handled: the channel should try again later."""


class Turn(StrEnum):
    """Whether a stream entry may be handled now."""

    GO = "go"
    DONE = "done"
    LATER = "later"


@dataclass(frozen=True)
class Inbound:
    """A message as a channel received it. `user` and `address` are stored only as a hash and
    encrypted respectively."""

    channel: str
    user: str
    event_id: str
    text: str = ""
    kind: str = "text"
    address: dict[str, Any] = field(default_factory=dict)
    referral: str = ""
    # The channel's id of the message, kept while the channel still lets a bot delete it.
    message_id: str = ""
    # A photo, recording or file: what the channel needs to fetch it (bot/media.py keeps it); a
    # location: where.
    media: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """An entry of the inbound stream: a received message waiting to be handled."""

    entry_id: str
    conv: str
    seq: int
    channel: str
    kind: str
    sealed_text: str
    # The text was longer than MAX_TEXT and was cut.
    cut: bool
    # Inbound.media, sealed ('' for none).
    sealed_media: str = ""

    @classmethod
    def read(cls, entry_id: str, fields: dict[str, str]) -> Received:
        """The entry as the stream holds it; KeyError or ValueError for a malformed one."""
        return cls(
            entry_id=entry_id,
            conv=fields["conv"],
            seq=int(fields["seq"]),
            channel=fields["channel"],
            kind=fields.get("kind") or "text",
            sealed_text=fields["text"],
            cut=bool(fields.get("cut")),
            sealed_media=fields.get("media", ""),
        )


@dataclass(frozen=True)
class Reply:
    """An entry of the outbound stream: replies waiting to be sent."""

    entry_id: str
    conv: str
    seq: int
    channel: str
    # The received message's sequence number it answers ('' for an operator's or a reminder).
    reply_to: str
    sealed_replies: str
    # The confirmation of "forget me", sent after the erasure to the address it carries.
    forget: bool
    sealed_address: str
    # A quick exit: the channel first deletes what it can of the chat.
    exit: bool
    # The inbound entry these replies answer ('' for an operator's or a reminder): its id says
    # when the message arrived (Redis's milliseconds).
    received: str = ""

    @classmethod
    def read(cls, entry_id: str, fields: dict[str, str]) -> Reply:
        """The entry as the stream holds it; KeyError or ValueError for a malformed one."""
        return cls(
            entry_id=entry_id,
            conv=fields["conv"],
            seq=int(fields["seq"]),
            channel=fields["channel"],
            reply_to=fields.get("reply_to", ""),
            sealed_replies=fields["replies"],
            forget=bool(fields.get("forget")),
            sealed_address=fields.get("address", ""),
            exit=bool(fields.get("exit")),
            received=fields.get("received", ""),
        )


@dataclass(frozen=True)
class Outcome:
    """What handling a received message came to."""

    # What the person said, as read.
    text: str
    replies: list[dict[str, Any]] = field(default_factory=list)
    # The assistant's hand-off request (reason, risk, language, country, answers), if any.
    handoff: dict[str, Any] | None = None
    # The language the conversation goes on in ('' to keep it).
    language: str = ""
    # The conversation is to be erased (`forget` does it); the replies carry their address.
    forget: bool = False
    # The message waits for a person: the console is told.
    for_operator: bool = False
    # A quick exit: the channel first deletes what it can.
    leave: bool = False
    # What it adds to the reports' counters (bot/counts.py).
    tally: counts.Tally = counts.NOTHING
    # What the assistant understood of it, kept beside it for the operators.
    understood: Understood | None = None
    # A kept photo, recording or file (bot/media.py's reference), or a location, for the operators.
    media: dict[str, Any] | None = None


class Messages(Conversations):
    """Queues, orders and finishes the entries of the inbox and the outbox."""

    async def accept(self, message: Inbound) -> str | None:
        """Queues a received message, cut to MAX_TEXT characters before anything is stored; None
        when this event was seen before (a replay). Backlogged when the inbound stream has
        INBOUND_BACKLOG messages waiting: the channel is told to try later. A referral code is
        kept only when it is a registered NGO's."""
        conv = self.conversation_id(message.channel, message.user)
        keys = [
            self._seen_key(message),
            conversation_key(conv),
            INBOUND,
            address_key(conv),
            messages_key(conv),
            NGOS,
            entries_key(conv),
        ]
        args = {
            "now": now(),
            "ttl": self.ttl,
            "seen_ttl": SEEN_SECONDS,
            "channel": message.channel,
            "kind": message.kind,
            "text": self.sealer.seal(message.text[:MAX_TEXT]),
            "referral": message.referral,
            "address": self.sealer.seal(message.address),
            "conv": conv,
            "message_id": message.message_id,
            "deletable": min(DELETABLE_SECONDS, self.ttl),
            "backlog": INBOUND_BACKLOG,
            "cut": "1" if len(message.text) > MAX_TEXT else "",
            "media": self.sealer.seal(message.media) if message.media else "",
        }
        if self.wait_replicas and time.monotonic() >= self.unreplicated_until:
            # WAIT counts the writes of its own connection: the script and it share one.
            async with self.redis.client() as connection:
                entry = await self.scripts.run("accept", keys, args, client=connection)
                if entry and entry != -1:
                    await self._replicated(connection)
        else:
            entry = await self.scripts.run("accept", keys, args)
        if entry == -1:
            raise Backlogged(f"{INBOUND_BACKLOG} messages are waiting to be handled")
        return conv if entry else None

    async def _replicated(self, connection: aioredis.Redis) -> None:
        """Waits until the replicas hold what this connection wrote, so that a failover right
        after the acknowledgement loses nothing. With no replica answering there is nothing to
        fail over to: the message is accepted all the same, and the wait is logged."""
        copies = await connection.wait(self.wait_replicas, REPLICA_WAIT_MS)
        if copies < self.wait_replicas:
            # Not every message of a busy evening waits a second for a replica that is gone.
            self.unreplicated_until = time.monotonic() + UNREPLICATED_SECONDS
            log.warning(
                "an accepted message is on %s of %s replicas; not waiting for %s s",
                copies,
                self.wait_replicas,
                UNREPLICATED_SECONDS,
            )

    def _seen_key(self, message: Inbound) -> str:
        # The event id may hold the user's id (the web chat's client id lets one read its
        # replies): only a keyed hash of it is stored.
        return seen_key(self.conversation_id(message.channel, message.event_id))

    async def seen(self, message: Inbound) -> bool:
        """Whether this event was accepted before (a channel sending it again)."""
        return bool(await self.redis.exists(self._seen_key(message)))

    async def wait_turn(self, conv: str, seq: int, counter: str, seconds: float = 1.0) -> Turn:
        """Waits a moment for entry `seq` to come next under `counter` (in_done or out_done);
        LATER when it has not (the consumer tries it again shortly)."""
        deadline = time.monotonic() + seconds
        pause = 0.005
        while True:
            done = int(await self.redis.hget(conversation_key(conv), counter) or 0)
            if done >= seq:
                return Turn.DONE
            if done == seq - 1:
                return Turn.GO
            if time.monotonic() > deadline:
                return Turn.LATER
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    async def finish_inbound(self, message: Received, outcome: Outcome) -> bool:
        """Records a handled message as `outcome` says, queues its replies and any hand-off,
        acknowledges the entry: all or nothing. False when it had been done before."""
        conv, at = message.conv, now()
        day = counts.day(at)
        person: dict[str, Any] = {"at": at, "from": "person", "text": outcome.text}
        if outcome.understood is not None:
            person["understood"] = outcome.understood
        if outcome.media:
            person["media"] = outcome.media
        lines = [self.sealer.seal(person)]
        if outcome.replies:
            lines.append(self.sealer.seal({"at": at, "from": "bot", "replies": outcome.replies}))
        handoff = outcome.handoff or {}
        risk = str(handoff.get("risk") or "")
        keys = [
            conversation_key(conv),
            INBOUND,
            OUTBOUND,
            transcript_key(conv),
            QUEUE,
            CONSOLE,
            RECENT,
            stats_key(day, counts.ALL),
            stats_key(day, outcome.tally.referral or counts.ALL),
            entries_key(conv),
            FORGETTING,
            FAILURES,
        ]
        sealed_address = await self.redis.get(address_key(conv)) if outcome.forget else ""
        args = {
            "group": ROUTERS,
            "entry": message.entry_id,
            "seq": message.seq,
            "now": at,
            "ttl": self.ttl,
            "lines": lines,
            "replies": self.sealer.seal(outcome.replies) if outcome.replies else "",
            "score": "" if outcome.handoff is None else queue_score(risk, at),
            "conv": conv,
            "channel": message.channel,
            "risk": risk,
            "language": outcome.language,
            "transcript_length": TRANSCRIPT_LENGTH,
            "forget": "1" if outcome.forget else "",
            "handoff": "" if outcome.handoff is None else self.sealer.seal(outcome.handoff),
            "reason": str(handoff.get("reason") or ""),
            "console_event": "message" if outcome.for_operator else "",
            "console_backlog": CONSOLE_BACKLOG,
            "country": str(handoff.get("country") or ""),
            "recent_kept": RECENT_KEPT,
            "exit": "1" if outcome.leave else "",
            "address": sealed_address or "",
            "counted": list(outcome.tally.counted),
            "opening": list(outcome.tally.opening),
            "counts_kept": STATS_KEPT_SECONDS,
            "handoff_from": starts_of("handoff"),
        }
        return bool(await self.scripts.run("finish_inbound", keys, args))

    async def finish_outbound(self, reply: Reply, web: bool) -> bool:
        """Marks replies delivered and acknowledges them; for the web chat, delivering is adding
        them to the page's stream, in the same step. False when done before."""
        conv = reply.conv
        keys = [conversation_key(conv), OUTBOUND, web_key(conv), entries_key(conv), FAILURES]
        args = {
            "group": SENDERS,
            "entry": reply.entry_id,
            "seq": reply.seq,
            "replies": reply.sealed_replies if web else "",
            "ttl": self.ttl,
            "web_backlog": WEB_BACKLOG,
            "reply_to": reply.reply_to,
            "erased_web": ERASED_WEB_SECONDS,
            "replied": WEB_REPLIED,
            "conv": conv,
        }
        return bool(await self.scripts.run("finish_outbound", keys, args))

    async def remind(
        self, conv: str, first_after: float, every: float, replies: list[dict[str, Any]]
    ) -> bool:
        """Tells a person who is still waiting that they are (`replies`), once `first_after`
        seconds after the hand-off was queued and then at most every `every` seconds. Atomic: with
        several workers, one sends it. False when it is not due, or the hand-off is over."""
        at = now()
        line = {"at": at, "from": "bot", "replies": replies, "reminder": True}
        keys = [
            conversation_key(conv),
            OUTBOUND,
            transcript_key(conv),
            CONSOLE,
            entries_key(conv),
        ]
        args = {
            "now": at,
            "first_after": first_after,
            "every": every,
            "replies": self.sealer.seal(replies),
            "line": self.sealer.seal(line),
            "conv": conv,
            "transcript_length": TRANSCRIPT_LENGTH,
            "console_backlog": CONSOLE_BACKLOG,
            "ttl": self.ttl,
        }
        return bool(await self.scripts.run("remind", keys, args))

    async def tell(self, conv: str, replies: list[dict[str, Any]]) -> bool:
        """Sends the person something outside the conversation (not kept in its transcript), after
        what is already queued for them. False when there is no such conversation."""
        keys = [conversation_key(conv), OUTBOUND, entries_key(conv)]
        args = {"now": now(), "replies": self.sealer.seal(replies), "conv": conv, "ttl": self.ttl}
        return bool(await self.scripts.run("tell", keys, args))

    async def remember_messages(self, conv: str, ids: list[str]) -> None:
        """Keeps the ids of messages sent to the chat while the channel lets a bot delete them."""
        if not ids:
            return
        key, at = messages_key(conv), now()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, dict.fromkeys(ids, at))
            pipe.zremrangebyscore(key, "-inf", at - DELETABLE_SECONDS)
            pipe.expire(key, min(DELETABLE_SECONDS, self.ttl))
            await pipe.execute()

    async def deletable_messages(self, conv: str) -> list[str]:
        """Ids of the chat's messages, the person's and the bot's, that may still be deleted."""
        found: list[str] = await self.redis.zrangebyscore(
            messages_key(conv), now() - DELETABLE_SECONDS + 60, "+inf"
        )
        return found

    async def drop_messages(self, conv: str) -> None:
        """Forgets the message ids (the messages were deleted)."""
        await self.redis.delete(messages_key(conv))
