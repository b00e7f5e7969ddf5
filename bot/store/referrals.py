"""Referrals of a person to a partner organisation in their home country (issue 20).

Made here: by the operator who holds the conversation, sent only after the person agreed by
button. Each lives in the conversation's referrals hash, sealed, and goes with the conversation
(its retention, "forget me"). The person's consent is kept with the referral: when, the text they
were shown, their answer.

Between hotlines: envelopes wait in the outbox until the partner has them (bot/outbox.py sends
them); referrals received from partners are kept sealed, each once (a replayed envelope is
refused), with the status this hotline gives them."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot import counts
from bot.store.conversations import Conversations, now
from bot.store.keys import (
    OUTBOX,
    OUTBOX_ITEMS,
    RECEIVED,
    RECEIVED_ORDER,
    SEEN_ENVELOPES,
    STATS_KEPT_SECONDS,
    conversation_key,
    referrals_key,
    stats_key,
)

# What the consent buttons send: /referral{"id":"<10 hex>","answer":"agree|later|what"}.
ANSWER = re.compile(r'^/referral\{"id":"([0-9a-f]{10})","answer":"(agree|later|what)"\}$')
# A phone number as a person types one: digits, spaces, dashes, dots, brackets, a leading +.
PHONE = re.compile(r"^\+?[0-9][0-9 .()-]{5,22}[0-9]$")
# The conversation's field naming the referral whose phone number the person was just asked for.
AWAITED_PHONE = "referral_phone"
# A referral's states on this side before it leaves; then `received` when the partner hotline has
# it, and what the partner says after (STATUSES), or `to_print` for a partner without the system.
ASKED, AGREED, NOT_NOW = "asked", "agreed", "not_now"
# What a partner hotline says of a referral it received (and this one of those it received).
STATUSES = ("received", "accepted", "in_progress", "closed", "declined")
# How long a process holds an envelope it is sending (an inbox answers within 10 s).
LEASE_SECONDS = 60
# How long an envelope's next try waits after a failure: doubling from the first, to the last.
RETRY_SECONDS = (5.0, 3600.0)
# What the reports count of a referral this hotline sent (bot/counts.py), by its new state.
COUNTED = {
    "received": "referrals_sent",
    "accepted": "referrals_accepted",
    "closed": "referrals_closed",
}
# Received referrals are kept this long after they arrived.
RECEIVED_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Referral:
    """One referral: to whom, what it carries besides the screening, and where it stands."""

    id: str
    conv: str
    partner: str
    partner_name: str
    partner_country: str
    # Where the person comes from (a country code of content/countries.yaml).
    origin: str
    needs: tuple[str, ...]
    note: str
    by: str
    at: float
    state: str = ASKED
    # The consent question as the person was shown it, in their language.
    asked: str = ""
    # The consent as given: {"at", "shown", "answer"}; None until the person answers.
    consent: dict[str, Any] | None = None
    # What happened, oldest first: {"at", "state", "detail"}.
    history: tuple[dict[str, Any], ...] = field(default=())
    # Messages relayed with the partner, oldest first: {"at", "from" ("partner" or "us"), "text"}.
    messages: tuple[dict[str, Any], ...] = field(default=())
    # A phone number the person typed in for the partner to call or message them ('' for none).
    phone: str = ""


def payload(referral_id: str, answer: str) -> str:
    """What a consent button sends (short: Telegram's buttons carry 64 bytes)."""
    return "/referral" + json.dumps({"id": referral_id, "answer": answer}, separators=(",", ":"))


class Referrals(Conversations):
    """The conversation's referrals: made, answered, moved on."""

    async def new_referral(
        self,
        conv: str,
        partner: str,
        partner_name: str,
        partner_country: str,
        origin: str,
        needs: tuple[str, ...],
        note: str,
        by: str,
        asked: str,
    ) -> Referral:
        """Records a referral whose consent is about to be asked with the words `asked`."""
        made = Referral(
            secrets.token_hex(5),
            conv,
            partner,
            partner_name,
            partner_country,
            origin,
            needs,
            note,
            by,
            now(),
            asked=asked,
            history=({"at": now(), "state": ASKED, "detail": by},),
        )
        await self._keep(made)
        return made

    async def referral(self, conv: str, referral_id: str) -> Referral | None:
        """One of the conversation's referrals."""
        raw = await self.redis.hget(referrals_key(conv), referral_id)
        return _read(self.sealer.open(raw)) if raw else None

    async def referrals_of(self, conv: str) -> list[Referral]:
        """The conversation's referrals, newest first."""
        found = [
            _read(self.sealer.open(raw)) for raw in (await self.redis.hvals(referrals_key(conv)))
        ]
        return sorted(found, key=lambda r: r.at, reverse=True)

    async def consented(
        self, conv: str, referral_id: str, answer: str, shown: str
    ) -> Referral | None:
        """Keeps the person's answer to the consent (agree or not now) with the text they were
        shown. None for a referral that is not this conversation's, or was answered before."""
        found = await self.referral(conv, referral_id)
        if found is None or found.state != ASKED:
            return None
        at = now()
        state = AGREED if answer == "agree" else NOT_NOW
        moved = replace(
            found,
            state=state,
            consent={"at": at, "shown": shown, "answer": answer},
            history=(*found.history, {"at": at, "state": state, "detail": "person"}),
        )
        await self._keep(moved)
        return moved

    async def moved(self, referral: Referral, state: str, detail: str = "") -> Referral:
        """Records where a referral stands now (received by the partner, what it said since),
        counted for the reports when it reached the partner, was accepted or closed."""
        at = now()
        changed = replace(
            referral,
            state=state,
            history=(*referral.history, {"at": at, "state": state, "detail": detail}),
        )
        await self._keep(changed)
        measure = COUNTED.get(state)
        if measure and state != referral.state:
            ngo = await self.redis.hget(conversation_key(referral.conv), "referral") or ""
            [counter] = counts.fields(measure, ngo, {"partner_country": referral.partner_country})
            day = counts.day(at)
            async with self.redis.pipeline(transaction=False) as pipe:
                for who in counts.whom(ngo):
                    pipe.hincrby(stats_key(day, who), counter, 1)
                    pipe.expire(stats_key(day, who), STATS_KEPT_SECONDS)
                await pipe.execute()
        return changed

    async def await_phone(self, conv: str, referral_id: str) -> None:
        """Remembers that the person was asked for a phone number for this referral."""
        await self.redis.hset(conversation_key(conv), AWAITED_PHONE, referral_id)

    async def phone_given(self, referral: Referral, phone: str) -> Referral:
        """Keeps the number the person typed in, and stops waiting for one."""
        changed = replace(referral, phone=phone)
        await self._keep(changed)
        await self.redis.hdel(conversation_key(referral.conv), AWAITED_PHONE)
        return changed

    async def relayed(self, referral: Referral, sender: str, text: str) -> Referral:
        """Keeps a message relayed with the partner on the referral (`sender`: partner or us)."""
        line = {"at": now(), "from": sender, "text": text}
        changed = replace(referral, messages=(*referral.messages, line))
        await self._keep(changed)
        return changed

    async def post(
        self, envelope_id: str, partner: str, payload: dict[str, Any], about: dict[str, str]
    ) -> None:
        """Puts an envelope for a partner hotline in the outbox, to be sent at once; `about` says
        what to record when it lands (a referral: its conversation and id)."""
        item = {"partner": partner, "payload": payload, "about": about, "attempts": 0}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(OUTBOX_ITEMS, envelope_id, self.sealer.seal(item))
            pipe.zadd(OUTBOX, {envelope_id: now()})
            await pipe.execute()

    async def due(self, limit: int = 10) -> list[tuple[str, dict[str, Any]]]:
        """Envelopes whose time has come, each taken by one process only for LEASE_SECONDS (a
        process that dies with one leaves it to the next); put them back with `post_later` or
        remove them with `posted`."""
        taken = []
        at = now()
        for envelope_id in await self.redis.zrangebyscore(OUTBOX, 0, at, start=0, num=limit):
            args = {"id": envelope_id, "now": at, "lease": LEASE_SECONDS}
            if await self.scripts.run("take_due", [OUTBOX], args):
                raw = await self.redis.hget(OUTBOX_ITEMS, envelope_id)
                if raw:
                    taken.append((envelope_id, self.sealer.open(raw)))
                else:
                    await self.redis.zrem(OUTBOX, envelope_id)
        return taken

    async def post_later(self, envelope_id: str, item: dict[str, Any], error: str) -> float:
        """Puts an envelope back for later, with why it did not land; the seconds until then."""
        attempts = int(item.get("attempts", 0)) + 1
        first, last = RETRY_SECONDS
        wait: float = min(first * 2.0 ** (attempts - 1), last)
        item = {**item, "attempts": attempts, "error": error[:200], "tried": now()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(OUTBOX_ITEMS, envelope_id, self.sealer.seal(item))
            pipe.zadd(OUTBOX, {envelope_id: now() + wait})
            await pipe.execute()
        return wait

    async def posted(self, envelope_id: str) -> None:
        """The partner has the envelope (or it must never leave): it leaves the outbox."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(OUTBOX_ITEMS, envelope_id)
            pipe.zrem(OUTBOX, envelope_id)
            await pipe.execute()

    async def waiting_envelopes(self) -> list[tuple[str, dict[str, Any]]]:
        """What is still in the outbox (for supervisors: what has not landed, and why)."""
        return [
            (i, self.sealer.open(raw))
            for i, raw in (await self.redis.hgetall(OUTBOX_ITEMS)).items()
        ]

    async def receive_once(self, partner: str, envelope_id: str) -> bool:
        """Whether a partner's envelope is taken for the first time (False: a repeat)."""
        key = f"{SEEN_ENVELOPES}:{partner}:{envelope_id}"
        return bool(await self.redis.set(key, 1, nx=True, ex=RECEIVED_SECONDS))

    async def receive(self, partner: str, envelope_id: str, payload: dict[str, Any]) -> bool:
        """Keeps a referral a partner hotline sent, once: False for an envelope seen before."""
        if not await self.receive_once(partner, envelope_id):
            return False
        at = now()
        kept = {
            "id": envelope_id,
            "partner": partner,
            "at": at,
            "payload": payload,
            "status": "received",
            "history": [{"at": at, "status": "received", "by": ""}],
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(RECEIVED, envelope_id, self.sealer.seal(kept))
            pipe.zadd(RECEIVED_ORDER, {envelope_id: at})
            await pipe.execute()
        return True

    async def received(self) -> list[dict[str, Any]]:
        """The referrals received from partners, newest first."""
        ids = await self.redis.zrevrange(RECEIVED_ORDER, 0, 199)
        kept = await self.redis.hmget(RECEIVED, ids) if ids else []
        return [self.sealer.open(raw) for raw in kept if raw]

    async def received_one(self, envelope_id: str) -> dict[str, Any] | None:
        """One received referral."""
        raw = await self.redis.hget(RECEIVED, envelope_id)
        return self.sealer.open(raw) if raw else None

    async def set_status(
        self, envelope_id: str, status: str, reason: str, by: str
    ) -> dict[str, Any] | None:
        """Records the status this hotline gives a received referral."""
        if status not in STATUSES:
            return None
        line = {"at": now(), "status": status, "by": by, "reason": reason}
        return await self._rewrite_received(
            envelope_id, lambda found: {"status": status, "history": [*found["history"], line]}
        )

    async def received_message(self, envelope_id: str, sender: str, text: str) -> bool:
        """Keeps a message relayed on a received referral (`sender`: them or us)."""
        line = {"at": now(), "from": sender, "text": text}
        changed = await self._rewrite_received(
            envelope_id, lambda found: {"messages": [*found.get("messages", []), line]}
        )
        return changed is not None

    async def received_phone(self, partner: str, envelope_id: str, phone: str) -> bool:
        """Adds the phone number the person gave to a referral received from `partner`."""
        changed = await self._rewrite_received(
            envelope_id,
            lambda found: {"payload": {**found["payload"], "phone": phone}},
            partner,
        )
        return changed is not None

    async def _rewrite_received(
        self,
        envelope_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        partner: str = "",
    ) -> dict[str, Any] | None:
        """A received referral with the fields `change` gives it, stored again; None when there is
        none (or, with `partner`, none that partner sent)."""
        found = await self.received_one(envelope_id)
        if found is None or (partner and found.get("partner") != partner):
            return None
        found = {**found, **change(found)}
        await self.redis.hset(RECEIVED, envelope_id, self.sealer.seal(found))
        return found

    async def erase_received(self, partner: str, envelope_id: str) -> bool:
        """Erases a referral the partner that sent it called back; False when none is held. Its
        envelope stays seen: a replay of it is still refused."""
        found = await self.received_one(envelope_id)
        if found is None or found.get("partner") != partner:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(RECEIVED, envelope_id)
            pipe.zrem(RECEIVED_ORDER, envelope_id)
            await pipe.execute()
        return True

    async def sweep_received(self) -> int:
        """Removes the received referrals older than RECEIVED_SECONDS; how many went."""
        old = await self.redis.zrangebyscore(RECEIVED_ORDER, 0, now() - RECEIVED_SECONDS)
        if old:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hdel(RECEIVED, *old)
                pipe.zrem(RECEIVED_ORDER, *old)
                await pipe.execute()
        return len(old)

    async def _keep(self, referral: Referral) -> None:
        """Stores the referral, and tells open consoles its conversation changed (a status or a
        message from the partner shows at once)."""
        key = referrals_key(referral.conv)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, referral.id, self.sealer.seal(asdict(referral)))
            pipe.expire(key, self.ttl)
            await self._console_event(pipe, referral.conv, {"kind": "referral"})
            await pipe.execute()


def _read(data: dict[str, Any]) -> Referral:
    data["needs"] = tuple(data["needs"])
    data["history"] = tuple(data["history"])
    data["messages"] = tuple(data.get("messages", ()))
    data.setdefault("phone", "")
    return Referral(**data)
