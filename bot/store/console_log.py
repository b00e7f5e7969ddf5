"""What the console keeps of its own: the audit log (who did or saw what) and who is online."""

from __future__ import annotations

from bot.store.conversations import Conversations, now
from bot.store.keys import (
    AUDIT,
    AUDIT_KEPT_SECONDS,
    ONLINE,
    ONLINE_SECONDS,
    audit_index_key,
    conversation_key,
)


class ConsoleLog(Conversations):
    """The audit log and the operators' presence."""

    async def audit(self, user: str, action: str, conv: str = "", detail: str = "") -> None:
        """Records who did or saw what, filed under the conversation it is about (one that no
        longer exists is not named); the log is only ever appended to."""
        at = now()
        fields = {"at": at, "user": user, "action": action, "detail": detail}
        if not conv:
            await self.redis.xadd(AUDIT, {**fields, "conv": ""})
            return
        keys = [AUDIT, audit_index_key(conv), conversation_key(conv)]
        pairs = [str(part) for item in fields.items() for part in item]
        args = {"now": at, "kept": AUDIT_KEPT_SECONDS, "conv": conv, "fields": pairs}
        await self.scripts.run("audit", keys, args)

    async def audit_page(
        self, conv: str = "", before: str = "", size: int = 100
    ) -> list[tuple[str, dict[str, str]]]:
        """A page of the audit log, newest first: lines older than the id `before` (from the
        newest when empty), of one conversation or of all."""
        if not conv:
            found: list[tuple[str, dict[str, str]]] = await self.redis.xrevrange(
                AUDIT, max=f"({before}" if before else "+", count=size
            )
            return found
        top = f"({_audit_score(before)}" if before else "+inf"
        ids: list[str] = await self.redis.zrevrangebyscore(
            audit_index_key(conv), top, "-inf", start=0, num=size
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xrange(AUDIT, entry_id, entry_id)
            lines: list[list[tuple[str, dict[str, str]]]] = await pipe.execute()
        return [line[0] for line in lines if line]

    async def operator_seen(self, user: str) -> None:
        """Marks an operator as online now (the console calls it while a page is open)."""
        await self.redis.zadd(ONLINE, {user: now()})

    async def operators_online(self) -> int:
        """How many operators had the console open in the last ONLINE_SECONDS."""
        count: int = await self.redis.zcount(ONLINE, now() - ONLINE_SECONDS, "+inf")
        return count

    async def who_is_online(self) -> set[str]:
        """The operators who had the console open in the last ONLINE_SECONDS."""
        found: list[str] = await self.redis.zrangebyscore(ONLINE, now() - ONLINE_SECONDS, "+inf")
        return set(found)


def _audit_score(entry_id: str) -> int:
    """An audit line's id as its score in a conversation's index (scripts/audit.lua)."""
    ms, _, seq = entry_id.partition("-")
    return int(ms) * 1000 + int(seq or 0)
