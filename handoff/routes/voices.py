"""The console's voices (supervisors only): each text a person can listen to (🔊), in each
language, with where its sound comes from; a supervisor uploads a recording, says who recorded it
and when it was checked, or removes one (bot/voices.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from bot import audio, voices
from bot.media import sniff
from handoff.deps import Checked, StoreDep, Supervisor, VoicesDep
from handoff.pages import PREFIX, render
from hotline.language import LANGUAGES

Name = Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,40}$")]
Language = Annotated[str, PathParam(pattern=r"^(th|vi|km)$")]
# What a recording may be, read from its bytes (a browser records WebM).
SOUND_KINDS = ("audio", "video")

router = APIRouter(prefix=f"{PREFIX}/voices", include_in_schema=False)


@router.get("")
async def overview(request: Request, session: Supervisor, kept: VoicesDep) -> HTMLResponse:
    """Every text in every language with its sound (recorded, synthetic or missing), the missing
    ones listed first."""
    rows = await kept.overview()
    context = {
        "session": session,
        "rows": rows,
        "missing": [row for row in rows if row.source == "missing"],
        "done": request.query_params.get("done", ""),
        "today": dt.date.today().isoformat(),
        "languages": LANGUAGES,
    }
    return render(request, "voices.html", context)


@router.post("/{name}/{language}")
async def record(
    store: StoreDep,
    session: Supervisor,
    form: Checked,
    kept: VoicesDep,
    name: Name,
    language: Language,
) -> Response:
    """Keeps an uploaded recording of the text as it now reads; audited."""
    if name not in voices.texts():
        return _back("")
    sent = form.get("file")
    by = str(form.get("recorded_by") or "").strip()[:80]
    try:
        checked = dt.date.fromisoformat(str(form.get("checked") or ""))
    except ValueError:
        checked = None
    if not isinstance(sent, UploadFile) or not by or checked is None:
        return _back("incomplete")
    data = await sent.read()
    found = sniff(data)
    if found is None or found.kind not in SOUND_KINDS:
        return _back("not_sound")
    try:
        await kept.record(name, language, data, by, checked)
    except audio.AudioError:
        return _back("not_sound")
    await store.audit(session.account.name, "voice_recorded", detail=f"{name} {language} ({by})")
    return _back("saved")


@router.post("/{name}/{language}/remove")
async def remove(
    store: StoreDep,
    session: Supervisor,
    form: Checked,
    kept: VoicesDep,
    name: Name,
    language: Language,
) -> Response:
    """Removes a recording (speech plays instead where there is any); audited."""
    if await kept.remove(name, language):
        await store.audit(session.account.name, "voice_removed", detail=f"{name} {language}")
    return _back("removed")


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/voices?done={done}", status_code=303)
