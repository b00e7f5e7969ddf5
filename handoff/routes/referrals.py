"""The console's referrals received from partner hotlines (issue 20): what each carries, and the
status this hotline gives it (accepted, in progress, closed, or declined with a reason), which
goes back to the hotline that sent it."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import partners
from bot.store.referrals import STATUSES
from handoff.deps import Checked, SignedIn, StoreDep
from handoff.pages import PREFIX, render

EnvelopeId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{10}$")]

router = APIRouter(prefix=f"{PREFIX}/referrals", include_in_schema=False)


@router.get("")
async def received(request: Request, store: StoreDep, session: SignedIn) -> HTMLResponse:
    """The referrals partners sent, newest first, with what each carries."""
    known = {p.id: p for p in await partners.everyone(store.redis)}
    context = {
        "session": session,
        "received": await store.received(),
        "partners": known,
        "statuses": STATUSES[1:],
    }
    return render(request, "referrals.html", context)


@router.post("/{envelope_id}/message")
async def message_person(
    store: StoreDep, session: SignedIn, form: Checked, envelope_id: EnvelopeId
) -> Response:
    """Writes to the referred person: the hotline that sent the referral passes it on in their
    chat; audited."""
    text = str(form.get("text") or "").strip()[:2000]
    found = await store.received_one(envelope_id)
    if not text or found is None:
        return RedirectResponse(f"{PREFIX}/referrals", status_code=303)
    await store.received_message(envelope_id, "us", text)
    payload = {"type": "message", "back": found["payload"].get("back", ""), "text": text}
    await store.post(secrets.token_hex(5), found["partner"], payload, {})
    await store.audit(session.account.name, "referral_message", detail=envelope_id)
    return RedirectResponse(f"{PREFIX}/referrals?done=message", status_code=303)


@router.post("/{envelope_id}/status")
async def status(
    store: StoreDep, session: SignedIn, form: Checked, envelope_id: EnvelopeId
) -> Response:
    """Gives a received referral a status and sends it back to its hotline; audited."""
    chosen = str(form.get("status") or "")
    reason = str(form.get("reason") or "").strip()[:500]
    if chosen == "declined" and not reason:
        return RedirectResponse(f"{PREFIX}/referrals?done=reason", status_code=303)
    found = await store.set_status(envelope_id, chosen, reason, session.account.name)
    if found is None:
        return RedirectResponse(f"{PREFIX}/referrals", status_code=303)
    payload = {
        "type": "status",
        "status": chosen,
        "reason": reason,
        "back": found["payload"].get("back", ""),
    }
    await store.post(secrets.token_hex(5), found["partner"], payload, {})
    await store.audit(session.account.name, "referral_status", detail=f"{envelope_id} {chosen}")
    return RedirectResponse(f"{PREFIX}/referrals?done=status", status_code=303)
