"""Hand-offs: the queue of people waiting for an operator, and every change of who answers.

Each change is checked against the transition table (bot/store/states.py) in the transaction that
makes it: a WATCHed one here, or in Lua where a message's handling queues a hand-off."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from bot.store.conversations import Conversations, now
from bot.store.keys import (
    ACTIVE,
    CONSOLE,
    CONSOLE_BACKLOG,
    OUTBOUND,
    QUEUE,
    RECENT,
    conversation_key,
    entries_key,
    transcript_key,
)
from bot.store.states import (
    HOLDER_ONLY,
    PERSON,
    PRIORITY,
    NotAllowed,
    State,
    queue_score,
    starts_of,
    transition,
)
from bot.store.statistics import count_answered


class Handoffs(Conversations):
    """Queues, claims, transfers and closes hand-offs."""

    async def change(
        self,
        conv: str,
        event: str,
        by: str,
        *,
        supervisor: bool = False,
        to: str = "",
        say: str = "",
        risk: str = "",
        show: dict[str, Any] | None = None,
        buttons: list[dict[str, str]] | None = None,
    ) -> State:
        """Applies a hand-off event of the console, all or nothing: claim (by an operator), transfer
        (to another operator), reply (`say` to the person, with `buttons` under it, and `show`
        them a kept photo, recording or file: bot/media.py's reference), close (`say` a last
        message), risk (set to `risk`: the only way danger said while waiting is lowered). Only the
        holder, or a supervisor, may transfer, reply, close or set the risk. NotAllowed says why
        not."""
        if event == "risk" and risk not in PRIORITY:
            raise NotAllowed(f"no such risk level: {risk!r}")
        key = conversation_key(conv)
        at = now()
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    found: dict[str, str] = await pipe.hgetall(key)
                    if not found:
                        raise NotAllowed("this conversation no longer exists")
                    current = State(found.get("state") or State.BOT)
                    holder = found.get("operator", "")
                    if event == "claim" and current is State.OPERATOR:
                        raise NotAllowed(f"{holder} has already taken this conversation")
                    new = transition(current, event)
                    if event in HOLDER_ONLY and holder and holder != by and not supervisor:
                        raise NotAllowed(f"{holder} holds this conversation, not you")
                    if event == "risk" and current is State.WAITING and not supervisor:
                        raise NotAllowed("take this conversation before you set its risk")
                    pipe.multi()
                    await self._changed(
                        pipe, conv, found, event, by, new, at, to, say, risk, show, buttons
                    )
                    await pipe.execute()
                    return new
                except aioredis.WatchError:
                    continue

    async def _changed(
        self,
        pipe: Any,
        conv: str,
        found: dict[str, str],
        event: str,
        by: str,
        new: State,
        at: float,
        to: str,
        say: str,
        risk: str,
        show: dict[str, Any] | None,
        buttons: list[dict[str, str]] | None = None,
    ) -> None:
        """Queues, in the transaction, what an allowed event changes."""
        key = conversation_key(conv)
        current = State(found.get("state") or State.BOT)
        fields: dict[str, str | float] = {"state": new.value, "active": at}
        if event == "claim" and current is State.WAITING:
            since = float(found.get("waiting_since") or at)
            fields |= {"operator": by, "claimed_at": at, "waited": at - since}
            count_answered(pipe, found, at, at - since)
        elif event == "claim":
            # Taken from the list: nobody asked, nobody waited.
            fields |= {"operator": by, "claimed_at": at, "reason": "operator"}
            pipe.hdel(key, "waited")
        if event == "transfer":
            fields["operator"] = to
        if event == "risk":
            fields["risk"] = risk
            if current is State.WAITING:
                since = float(found.get("waiting_since") or at)
                pipe.zadd(QUEUE, {conv: queue_score(risk, since)})
        if event in ("risk", "close") and by != PERSON:
            # An operator has seen to the danger; a person who left quickly has not.
            pipe.hdel(key, "danger_open")
        pipe.hset(key, mapping=fields)
        if new is not State.WAITING:
            pipe.zrem(QUEUE, conv)
        if new is State.OPERATOR and event == "claim":
            pipe.zadd(ACTIVE, {conv: at})
        if new is State.CLOSED:
            pipe.zrem(ACTIVE, conv)
        if say or show:
            line: dict[str, Any] = {"at": at, "from": "operator", "by": by, "text": say}
            sent: list[dict[str, Any]] = [{"text": say}] if say else []
            if buttons and sent:
                line["buttons"] = sent[0]["buttons"] = buttons
            if show:
                line["media"] = show
                sent.append({"media": show})
            pipe.rpush(transcript_key(conv), self.sealer.seal(line))
            out_seq = int(found.get("out_seq") or 0) + 1
            reply = {
                "conv": conv,
                "seq": out_seq,
                "channel": found.get("channel", ""),
                "reply_to": "",
                "replies": self.sealer.seal(sent),
            }
            await self._filed(pipe, OUTBOUND, conv, reply)
            pipe.hset(key, "out_seq", out_seq)
        await self._console_event(pipe, conv, {"kind": event, "by": by, "to": to, "risk": risk})

    async def left(self, conv: str, note: str) -> None:
        """Ends the hand-off of a person who left quickly, with a note for the operators."""
        try:
            await self.change(conv, "close", PERSON, supervisor=True)
        except NotAllowed:
            return
        await self.add_note(conv, "", note)

    async def withdraw(self, conv: str, seq: int, note: str) -> bool:
        """A person still waiting goes back to the assistant: the hand-off leaves the queue, with a
        note for the operators; message `seq` did it (a replay of it finds `withdrawn_in`). False
        when the conversation was not waiting."""
        key = conversation_key(conv)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    state = State(await pipe.hget(key, "state") or State.BOT)
                    if state is not State.WAITING:
                        return False
                    new = transition(state, "withdraw")
                    pipe.multi()
                    pipe.hset(key, mapping={"state": new.value, "withdrawn_in": seq})
                    pipe.zrem(QUEUE, conv)
                    await self._note(pipe, conv, "", note)
                    await self._console_event(pipe, conv, {"kind": "withdraw", "by": PERSON})
                    await pipe.execute()
                    return True
                except aioredis.WatchError:
                    continue

    async def raise_danger(self, conv: str, seq: int) -> bool:
        """Danger said by a person who waits for an operator or talks with one (message `seq`):
        the hand-off becomes immediate, goes to the top of the queue, and the console is alerted
        (every online operator while it waits; the holder and the supervisors when held). It stays
        immediate until an operator sets the risk or closes. False when there is no hand-off, or
        this message raised it already (a replay)."""
        keys = [conversation_key(conv), QUEUE, CONSOLE, entries_key(conv)]
        args = {
            "now": now(),
            "seq": seq,
            "conv": conv,
            "console_backlog": CONSOLE_BACKLOG,
            "top": queue_score("immediate", 0),
            "ttl": self.ttl,
            "danger_in": starts_of("danger"),
        }
        return bool(await self.scripts.run("raise_danger", keys, args))

    async def waiting(self, limit: int = 1000) -> list[tuple[str, dict[str, str]]]:
        """Queued conversations, most urgent first, then longest waiting, with their hashes."""
        return await self._with_hashes(await self.redis.zrange(QUEUE, 0, limit - 1))

    async def with_operators(self) -> list[tuple[str, dict[str, str]]]:
        """Conversations an operator holds now, longest held first, with their hashes."""
        return await self._with_hashes(await self.redis.zrange(ACTIVE, 0, -1))

    async def recent(self, limit: int = 50) -> list[tuple[str, dict[str, str]]]:
        """Conversations with the assistant (not waiting, not with an operator), the most recently
        active first, with their hashes."""
        found = await self._with_hashes(await self.redis.zrevrange(RECENT, 0, limit * 4 - 1))
        idle = (State.BOT.value, State.CLOSED.value)
        return [(c, h) for c, h in found if h.get("state") in idle][:limit]

    async def _with_hashes(self, convs: list[str]) -> list[tuple[str, dict[str, str]]]:
        """The conversations with their hashes (one round trip), leaving out expired ones."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.hgetall(conversation_key(conv))
            found: list[dict[str, str]] = await pipe.execute()
        return [(c, h) for c, h in zip(convs, found, strict=True) if h]
