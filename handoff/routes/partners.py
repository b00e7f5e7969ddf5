"""The console's partner registry (supervisors only): organisations in the people's home
countries that cases can be referred to (bot/partners.py), and this hotline's public key to
give to partner hotlines."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import envelopes, partners
from bot.referral_words import OFFERS
from bot.settings import Settings
from handoff.deps import Checked, SettingsDep, StoreDep, Supervisor
from handoff.pages import PREFIX, render
from handoff.sessions import Session

FIELDS = ("id", "name", "country", "contact", "url", "public_key")

router = APIRouter(prefix=f"{PREFIX}/partners", include_in_schema=False)


@router.get("")
async def partner_list(
    request: Request, store: StoreDep, settings: SettingsDep, session: Supervisor, id: str = ""
) -> HTMLResponse:
    """The registry, this hotline's public key, and a form to add a partner or edit `id`."""
    editing = await partners.find(store.redis, id) if id else None
    waiting = await store.waiting_envelopes()
    context = {"editing": editing, "waiting": waiting}
    return await _page(request, store.redis, settings, session, context)


@router.post("")
async def partner_save(
    request: Request, store: StoreDep, settings: SettingsDep, session: Supervisor, form: Checked
) -> Response:
    """Adds or changes a partner; a wrong field shows the form again, as typed, with why."""
    fields = {k: str(form.get(k) or "") for k in FIELDS}
    languages = [str(x) for x in form.getlist("languages")]
    offers = [str(x) for x in form.getlist("offers")]
    try:
        partner = partners.parse(
            fields["id"],
            fields["name"],
            fields["country"],
            languages,
            offers,
            fields["contact"],
            fields["url"],
            fields["public_key"],
            local=settings.deployment == "local",
        )
    except partners.InvalidPartner as error:
        typed = {**fields, "languages": languages, "offers": offers}
        context = {"typed": typed, "error": str(error)}
        return await _page(request, store.redis, settings, session, context, 400)
    await partners.save(store.redis, partner)
    await store.audit(session.account.name, "partner_saved", detail=partner.id)
    return RedirectResponse(f"{PREFIX}/partners", status_code=303)


async def _page(
    request: Request,
    redis: aioredis.Redis,
    settings: Settings,
    session: Session,
    context: Mapping[str, object],
    status: int = 200,
) -> HTMLResponse:
    """The registry page, with what the route adds (the partner edited, or a refused form)."""
    ours = envelopes.public_key(settings.referral_key) if settings.referral_key else ""
    found = {
        "session": session,
        "partners": await partners.everyone(redis),
        "ours": ours,
        "countries": partners.COUNTRIES,
        "languages": partners.LANGUAGES,
        "offers": OFFERS,
        **context,
    }
    return render(request, "partners.html", found, status)
