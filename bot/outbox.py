"""Envelopes to partner hotlines (issue 20): what a referral carries when the person agreed, and
the worker's sending of the outbox. Each envelope is sealed to the partner and signed
(bot/envelopes.py) at each try, under the same id, and posted to the partner's inbox
(`<its PUBLIC_URL>/referrals/inbox`) until the partner has it (202, or 409 for one it already
has; 410 when what it is about is gone there). A failure is tried again later, waiting longer
each time, and stays listed for supervisors until it lands."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bot import envelopes, partners
from bot.store import Store
from bot.store.referrals import AGREED, ASKED, NOT_NOW, Referral
from hotline.screening import SIGNS

log = logging.getLogger(__name__)

INBOX_PATH = "/referrals/inbox"
# How long a partner's inbox may take to answer.
POST_SECONDS = 10
# Handed to the person for a partner without the system: printed or e-mailed.
TO_PRINT = "to_print"
# Called back: the person took their consent back.
REVOKED = "revoked"


def referral_payload(
    referral: Referral, conversation: dict[str, str], handoff: dict[str, Any], back: str
) -> dict[str, Any]:
    """The minimal referral (CONTRACT.md's screening, not the transcript): where the person
    comes from and is now, language, risk, the signs the screening found, needs, how to reach
    them, the operator's note, when they agreed; `back` is what the partner's statuses carry
    back (sealed here: it names nothing to the partner)."""
    answers = handoff.get("answers") or {}
    consent = referral.consent or {}
    return {
        "type": "referral",
        "origin": referral.origin,
        "now": conversation.get("country", ""),
        "language": conversation.get("language", ""),
        "risk": conversation.get("risk", ""),
        "signs": [slot for slot, sign in SIGNS.items() if answers.get(slot) == sign],
        "needs": list(referral.needs),
        "contact": "chat",
        "phone": referral.phone,
        "note": referral.note,
        "agreed_at": consent.get("at"),
        "back": back,
    }


async def send_referral(
    store: Store, referral: Referral, conversation: dict[str, str], handoff: dict[str, Any]
) -> None:
    """An agreed referral: into the outbox for a partner hotline, else ready to print."""
    partner = await partners.find(store.redis, referral.partner)
    if partner is None or not partner.hotline:
        await store.moved(referral, TO_PRINT)
        return
    back = store.sealer.seal({"conv": referral.conv, "referral": referral.id})
    payload = referral_payload(referral, conversation, handoff, back)
    about = {"conv": referral.conv, "referral": referral.id}
    await store.post(referral.id, partner.id, payload, about)


async def send_phone(store: Store, referral: Referral) -> None:
    """The phone number the person typed in after agreeing, sent on to a partner hotline (a
    printed referral shows it)."""
    partner = await partners.find(store.redis, referral.partner)
    if partner is None or not partner.hotline or not referral.phone:
        return
    payload = {"type": "contact", "referral": referral.id, "phone": referral.phone}
    await store.post(f"{referral.id}-phone", partner.id, payload, {})


async def revoke_all(store: Store, conv: str) -> int:
    """The person said "forget me" (or took their consent back): each referral that left or may
    leave is called back from its partner hotline, which erases it; one still waiting in the
    outbox never leaves. The revocation waits in the outbox, apart from the conversation, until
    the partner acknowledges it. How many were called back."""
    called = 0
    for referral in await store.referrals_of(conv):
        if referral.state in (ASKED, NOT_NOW, TO_PRINT, REVOKED):
            continue
        await revoke(store, referral)
        called += 1
    return called


async def revoke(store: Store, referral: Referral) -> None:
    """Calls one referral back from its partner (an envelope in the outbox); what of it had not
    left yet (the referral, the person's phone number) never leaves."""
    await store.posted(referral.id)
    await store.posted(f"{referral.id}-phone")
    partner = await partners.find(store.redis, referral.partner)
    if partner is None or not partner.hotline:
        return
    payload = {"type": "revoke", "referral": referral.id}
    await store.post(f"{referral.id}-revoke", partner.id, payload, {})


async def deliver_due(store: Store, private_key: str, http: aiohttp.ClientSession) -> int:
    """Posts the envelopes whose time has come; how many landed."""
    landed = 0
    for envelope_id, item in await store.due():
        partner = await partners.find(store.redis, str(item.get("partner")))
        if partner is None or not partner.hotline or not private_key:
            await store.post_later(envelope_id, item, "no such partner hotline, or no REFERRAL_KEY")
            continue
        envelope = envelopes.seal(item["payload"], private_key, partner.public_key, envelope_id)
        try:
            async with http.post(
                partner.url + INBOX_PATH,
                json=envelope,
                timeout=aiohttp.ClientTimeout(total=POST_SECONDS),
            ) as answer:
                status, said = answer.status, await answer.text()
        except (aiohttp.ClientError, TimeoutError) as error:
            status, said = 0, type(error).__name__
        if status in (202, 409):
            await store.posted(envelope_id)
            await _landed(store, item.get("about") or {})
            landed += 1
        elif status == 410:  # the partner no longer holds what it is about: nobody to tell
            await store.posted(envelope_id)
            log.info("envelope to %s dropped: the partner no longer holds it", partner.id)
        else:
            wait = await store.post_later(envelope_id, item, f"{status or ''} {said}".strip())
            log.warning(
                "envelope to %s did not land (%s); again in %.0f s", partner.id, status, wait
            )
    return landed


async def _landed(store: Store, about: dict[str, str]) -> None:
    """Records that a referral reached its partner (it answers with statuses from then on)."""
    referral = await store.referral(about.get("conv", ""), about.get("referral", ""))
    if referral is not None and referral.state == AGREED:
        await store.moved(referral, "received")
