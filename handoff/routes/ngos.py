"""The console's NGO pages (supervisors only): the registry of the organisations that share the
service, and each one's share kit (links, QR codes, widget tag, printable leaflets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import ngos
from bot.settings import Settings
from bot.store import Store
from handoff import share_kit
from handoff.deps import Checked, SettingsDep, StoreDep, Supervisor
from handoff.leaflet import COUNTRIES, leaflet
from handoff.pages import PREFIX, render
from handoff.sessions import Session
from hotline.hotlines import HOME
from hotline.language import LANGUAGES

Code = Annotated[str, PathParam(pattern=ngos.CODE.pattern)]
QR_TYPES = {"png": "image/png", "svg": "image/svg+xml"}

router = APIRouter(prefix=f"{PREFIX}/ngos", include_in_schema=False)


async def kit_of(store: Store, settings: Settings, code: str) -> share_kit.Kit | None:
    """The share kit of the NGO with this code; None when there is none."""
    ngo = await ngos.find(store.redis, code)
    return share_kit.kit(ngo, settings) if ngo else None


def not_found(request: Request, session: Session) -> HTMLResponse:
    """The console's page for an unknown NGO, channel or leaflet."""
    return render(request, "error.html", {"session": session, "key": "ngo_unknown"}, 404)


@router.get("")
async def ngo_list(
    request: Request, store: StoreDep, session: Supervisor, code: str = ""
) -> HTMLResponse:
    """The NGO registry, with a form to add one or edit `code`."""
    editing = await ngos.find(store.redis, code) if code else None
    return render(
        request,
        "ngos.html",
        {"session": session, "ngos": await ngos.everyone(store.redis), "editing": editing},
    )


@router.post("")
async def ngo_save(
    request: Request, store: StoreDep, session: Supervisor, form: Checked
) -> Response:
    """Adds or changes an NGO; a wrong field shows the form again, as typed, with why."""
    fields = {k: str(form.get(k) or "") for k in ("code", "name", "contact", "team", "sites")}
    languages = [str(x) for x in form.getlist("languages")]
    try:
        ngo = ngos.parse(languages=languages, **fields)
        await ngos.save(store.redis, ngo)
    except ngos.InvalidNGO as error:
        typed = {**fields, "languages": languages}
        context = {"session": session, "ngos": await ngos.everyone(store.redis)}
        return render(request, "ngos.html", {**context, "typed": typed, "error": str(error)}, 400)
    await store.audit(session.account.name, "ngo_saved", detail=ngo.code)
    return RedirectResponse(f"{PREFIX}/ngos", status_code=303)


@router.get("/{code}/kit")
async def ngo_kit(
    request: Request, store: StoreDep, settings: SettingsDep, session: Supervisor, code: Code
) -> HTMLResponse:
    """The NGO's share kit: each channel's link and QR code, the widget tag, the leaflets."""
    kit = await kit_of(store, settings, code)
    if kit is None:
        return not_found(request, session)
    await store.audit(session.account.name, "kit_viewed", detail=code)
    context = {"kit": kit, "languages": LANGUAGES, "countries": COUNTRIES, "home": HOME}
    return render(request, "kit.html", {"session": session, **context})


@router.get("/{code}/qr/{channel}.{kind}")
async def ngo_qr(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    session: Supervisor,
    code: Code,
    channel: str,
    kind: str,
) -> Response:
    """A channel's QR code as a PNG or SVG file to download."""
    kit = await kit_of(store, settings, code)
    link = kit.link(channel) if kit else None
    if link is None or not link.url or kind not in QR_TYPES:
        return not_found(request, session)
    body = share_kit.qr_png(link.url) if kind == "png" else share_kit.qr_svg(link.url)
    disposition = f'attachment; filename="{code}-{channel}.{kind}"'
    headers = {"Content-Disposition": disposition}
    return Response(body, media_type=QR_TYPES[kind], headers=headers)


@router.get("/{code}/leaflet/{language}")
async def ngo_leaflet(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    session: Supervisor,
    code: Code,
    language: str,
    country: str = "",
) -> HTMLResponse:
    """The printable one-page leaflet in a language, with the phone lines of a country (by
    default the one where the language is spoken)."""
    kit = await kit_of(store, settings, code)
    if kit is None or language not in LANGUAGES or country not in ("", *COUNTRIES):
        return not_found(request, session)
    shown = leaflet(kit, language, country or HOME[language], settings.safe_word)
    return render(request, "leaflet.html", {"session": session, "kit": kit, "leaflet": shown})
