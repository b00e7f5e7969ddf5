"""The inbox partner hotlines post envelopes to (issue 20): `POST /referrals/inbox`. An envelope
is opened only if it is signed by a key pinned on a partner's record, meant for this hotline and
fresh (bot/envelopes.py). A referral is kept once: the same envelope again is answered 409 and
stores nothing. A status carries back what the partner says of a referral this hotline sent. A
revocation erases a referral its sender calls back (the person said "forget me" or took their
consent back); the answer acknowledges it."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot import envelopes, partners
from bot.limits import Limit, Limiter, address_group
from bot.outbox import INBOX_PATH
from bot.store import Store
from bot.store.referrals import STATUSES, Referral

# What a partner may post at once (an envelope is a few kilobytes).
MOST_BYTES = 64 * 1024
# Said (410) of a referral this hotline no longer holds: the person had it forgotten, or it was
# called back. The sender stops trying.
GONE = "this referral is no longer held here"
# The longest message relayed between a partner and the person.
MESSAGE_LENGTH = 2000


def routes(store: Store, private_key: str, limits: dict[str, Limit]) -> APIRouter:
    """The inbox, opening envelopes with this hotline's key; `limits` bound one address."""
    router = APIRouter()
    limiter = Limiter(store.redis, store.id_secret)

    @router.post(INBOX_PATH, status_code=202)
    async def inbox(request: Request) -> JSONResponse:
        """Takes an envelope from a partner hotline: 202 when taken, 409 when it was taken
        before, 403 when it is not a pinned partner's, meant for this hotline, fresh and
        intact, 400 when it is not an envelope."""
        address = address_group(request.client.host if request.client else "")
        for name in ("web-address", "web-address-minute"):
            seconds = await limiter.wait(limits[name], address)
            if seconds:
                wait = str(max(1, math.ceil(seconds)))
                return JSONResponse({"detail": "slow down"}, 429, {"Retry-After": wait})
        if not private_key:
            return JSONResponse({"detail": "this hotline has no REFERRAL_KEY"}, 503)
        body = await request.body()
        try:
            envelope = _json(body)
        except ValueError:
            return JSONResponse({"detail": "not an envelope"}, 400)
        pinned = await partners.pinned(store.redis)
        try:
            payload = envelopes.open_envelope(envelope, private_key, set(pinned))
        except envelopes.Refused as refused:
            status = 400 if refused.reason == "malformed" else 403
            return JSONResponse({"detail": refused.reason}, status)
        sender = pinned[str(envelope["from"])]
        kind = payload.get("type")
        if kind == "referral":
            if not await store.receive(sender.id, str(envelope["id"]), payload):
                return JSONResponse({"detail": "already received"}, 409)
            return JSONResponse({"status": "received"}, 202)
        if kind == "status":
            return await _status(store, sender.id, str(envelope["id"]), payload)
        if kind == "message":
            return await _message(store, sender, str(envelope["id"]), payload)
        if kind == "contact":
            phone = str(payload.get("phone", ""))[:30]
            kept = await store.received_phone(sender.id, str(payload.get("referral", "")), phone)
            if not kept:  # the referral has not arrived yet: the sender tries again later
                return JSONResponse({"detail": "unknown referral"}, 404)
            return JSONResponse({"status": "kept"}, 202)
        if kind == "revoke":
            erased = await store.erase_received(sender.id, str(payload.get("referral", "")))
            return JSONResponse({"status": "erased" if erased else "nothing held"}, 202)
        return JSONResponse({"detail": f"unknown envelope type {kind!r}"}, 400)

    return router


async def _status(
    store: Store, partner: str, envelope_id: str, payload: dict[str, Any]
) -> JSONResponse:
    """What a partner says of a referral this hotline sent, recorded once on it."""
    status = str(payload.get("status", ""))
    referral = await _sent(store, partner, payload)
    if referral is None or status not in STATUSES:
        return JSONResponse({"detail": GONE}, 410)
    if not await store.receive_once(partner, envelope_id):
        return JSONResponse({"detail": "already received"}, 409)
    reason = str(payload.get("reason", ""))[:500]
    await store.moved(referral, status, reason)
    return JSONResponse({"status": "recorded"}, 202)


async def _message(
    store: Store, sender: partners.Partner, envelope_id: str, payload: dict[str, Any]
) -> JSONResponse:
    """A message relayed between the partner and the person: from the partner, it reaches the
    person in their chat (and the operators see it with the referral); from the referring hotline,
    it is kept with the referral received."""
    text = str(payload.get("text", "")).strip()[:MESSAGE_LENGTH]
    if not text:
        return JSONResponse({"detail": "empty"}, 400)
    if "back" not in payload:
        found = await store.received_one(str(payload.get("referral", "")))
        if found is None or found.get("partner") != sender.id:
            # Not arrived yet (the sender tries again), or erased.
            return JSONResponse({"detail": "unknown referral"}, 404)
        if not await store.receive_once(sender.id, envelope_id):
            return JSONResponse({"detail": "already received"}, 409)
        await store.received_message(str(found["id"]), "them", text)
        return JSONResponse({"status": "kept"}, 202)
    referral = await _sent(store, sender.id, payload)
    if referral is None or referral.state == "revoked":
        return JSONResponse({"detail": GONE}, 410)
    if not await store.receive_once(sender.id, envelope_id):
        return JSONResponse({"detail": "already received"}, 409)
    await store.relayed(referral, "partner", text)
    await store.tell(referral.conv, [{"text": f"✉ {sender.name}:\n{text}"}])
    return JSONResponse({"status": "relayed"}, 202)


async def _sent(store: Store, partner: str, payload: dict[str, Any]) -> Referral | None:
    """The referral this hotline sent to `partner` that a payload's `back` names, if it is
    still here (not forgotten)."""
    try:
        back = store.sealer.open(str(payload.get("back", "")))
    except ValueError:
        return None
    if not isinstance(back, dict):
        return None
    referral = await store.referral(str(back.get("conv", "")), str(back.get("referral", "")))
    return referral if referral is not None and referral.partner == partner else None


def _json(body: bytes) -> dict[str, Any]:
    if len(body) > MOST_BYTES:
        raise ValueError("too large")
    found = json.loads(body)
    if not isinstance(found, dict):
        raise ValueError("not an object")
    return found
