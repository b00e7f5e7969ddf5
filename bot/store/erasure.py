"""Erasure and retention: "forget me" now, and the sweep of what expired."""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis

from bot.store.conversations import Conversations, now
from bot.store.keys import (
    ACTIVE,
    AUDIT,
    AUDIT_KEPT_SECONDS,
    CONSOLE,
    CONSOLE_BACKLOG,
    DEAD_LETTERS,
    ERASED_WEB_SECONDS,
    FAILURES,
    FORGET_TRIES,
    FORGETTING,
    INBOUND,
    OUTBOUND,
    QUEUE,
    RECENT,
    ROUTERS,
    SENDERS,
    SWEEP_ERASURES,
    audit_index_key,
    conversation_key,
    entries_key,
    keys_of,
    web_key,
)

log = logging.getLogger(__name__)


class Erasure(Conversations):
    """Erases conversations and what expired."""

    async def forget(self, conv: str) -> None:
        """Erases every trace of the conversation now: every key named by it (its hash, address,
        transcript, notes, message ids, Rasa's tracker and replies), its places in the queues, its
        entries on the shared streams (dead letters included) and the audit log's lines about it,
        all found through the conversation's indexes: the work grows with this conversation, never
        with all stored data. One audit line, without the conversation's id, records that an
        erasure happened. Only the reply confirming it is still delivered (it is not indexed and
        carries its address), and a web page's stream of replies stays ERASED_WEB_SECONDS for the
        page to show it. Only deletions: it works even when Redis is full (the audit line is then
        left out)."""
        index, audited = entries_key(conv), audit_index_key(conv)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(FORGET_TRIES):
                try:
                    # A message that arrives meanwhile is filed in the index: read it again.
                    await pipe.watch(index, audited)
                    filed: list[str] = await pipe.zrange(index, 0, -1)
                    lines: list[str] = await pipe.zrange(audited, 0, -1)
                    by_stream: dict[str, list[str]] = {}
                    for member in filed:
                        stream, _, entry_id = member.partition(" ")
                        by_stream.setdefault(stream, []).append(entry_id)
                    pipe.multi()
                    pipe.delete(*keys_of(conv))
                    # The page may not have shown the confirmation yet.
                    pipe.expire(web_key(conv), ERASED_WEB_SECONDS)
                    for zset in (QUEUE, ACTIVE, RECENT):
                        pipe.zrem(zset, conv)
                    for stream, group in ((INBOUND, ROUTERS), (OUTBOUND, SENDERS)):
                        if by_stream.get(stream):
                            pipe.xack(stream, group, *by_stream[stream])
                    for stream, ids in by_stream.items():
                        pipe.xdel(stream, *ids)
                    if filed:
                        pipe.hdel(FAILURES, *filed)
                    if lines:
                        pipe.xdel(AUDIT, *lines)
                    pipe.srem(FORGETTING, conv)
                    await pipe.execute()
                    break
                except aioredis.WatchError:
                    continue
            else:
                raise RuntimeError(f"the conversation kept changing: not erased in {FORGET_TRIES}")
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                erased = {"at": now(), "user": "", "action": "erased", "conv": "", "detail": ""}
                pipe.xadd(AUDIT, erased)
                pipe.xadd(CONSOLE, {"kind": "erased"}, maxlen=CONSOLE_BACKLOG, approximate=True)
                await pipe.execute()
        except aioredis.ResponseError as error:
            log.warning("an erasure was done but not recorded: %s", error)

    async def forgetting(self, conv: str) -> bool:
        """Whether an erasure was asked for and not yet done (a crash in between)."""
        return bool(await self.redis.hget(conversation_key(conv), "forgetting"))

    async def sweep(self) -> int:
        """Retention for what is shared by conversations: erases the conversations whose erasure a
        crash interrupted, drops from the queues and lists the conversations whose keys have
        expired, console events and dead letters older than the retention time, and audit lines
        older than AUDIT_KEPT_SECONDS; how many entries went. Every process may run it (it changes
        nothing twice)."""
        removed = 0
        for conv in await self.redis.srandmember(FORGETTING, SWEEP_ERASURES) or []:
            await self.forget(conv)
            removed += 1
        for zset in (QUEUE, ACTIVE, RECENT):
            members: list[str] = await self.redis.zrange(zset, 0, -1)
            async with self.redis.pipeline(transaction=False) as pipe:
                for conv in members:
                    pipe.exists(conversation_key(conv))
                alive = await pipe.execute()
            gone = [conv for conv, exists in zip(members, alive, strict=True) if not exists]
            if gone:
                removed += await self.redis.zrem(zset, *gone)
        now_ms = int(time.time() * 1000)
        kept = ((CONSOLE, self.ttl), (DEAD_LETTERS, self.ttl), (AUDIT, AUDIT_KEPT_SECONDS))
        for stream, seconds in kept:
            removed += await self.redis.xtrim(stream, minid=f"{now_ms - seconds * 1000}-0")
        return removed
