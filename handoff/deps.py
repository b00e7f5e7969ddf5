"""What the console's routes are given, as FastAPI dependencies: the store, the settings and the
per-process helpers the app was started with (all from `app.state`), the signed-in session, the
supervisor's session and the CSRF-checked form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from bot.media import MediaStore
from bot.settings import Settings
from bot.store import Store
from bot.voices import Voices
from handoff import sessions
from handoff.alerts import Alerts
from handoff.console_feed import ConsoleFeed
from handoff.sessions import COOKIE, Session
from handoff.translation import Translator


class LoginRequired(Exception):
    """The request has no valid session: the browser goes to the login page."""


class FormExpired(Exception):
    """A form came without the session's CSRF token."""


class SupervisorsOnly(Exception):
    """An operator asked for a supervisor's page."""


async def store(request: Request) -> Store:
    """The conversation store the app was started with."""
    found: Store = request.app.state.store
    return found


async def settings(request: Request) -> Settings:
    """The settings the app was started with."""
    found: Settings = request.app.state.settings
    return found


async def translator(request: Request) -> Translator | None:
    """Machine translation for operators; None unless TRANSLATE_URL is set."""
    found: Translator | None = request.app.state.translator
    return found


async def alerts(request: Request) -> Alerts:
    """Whom the live events reach and alert, shared by the web process's open consoles."""
    found: Alerts = request.app.state.alerts
    return found


async def media(request: Request) -> MediaStore:
    """Where the photos, recordings and files people sent are kept."""
    found: MediaStore = request.app.state.media
    return found


async def voices(request: Request) -> Voices:
    """The texts read aloud (bot/voices.py), kept beside the media."""
    found: Voices = request.app.state.voices
    return found


async def console_feed(request: Request) -> ConsoleFeed:
    """The web process's one reader of the console stream."""
    found: ConsoleFeed = request.app.state.console_feed
    return found


StoreDep = Annotated[Store, Depends(store)]
SettingsDep = Annotated[Settings, Depends(settings)]
TranslatorDep = Annotated[Translator | None, Depends(translator)]
AlertsDep = Annotated[Alerts, Depends(alerts)]
FeedDep = Annotated[ConsoleFeed, Depends(console_feed)]
MediaDep = Annotated[MediaStore, Depends(media)]
VoicesDep = Annotated[Voices, Depends(voices)]


async def signed_in(request: Request, store: StoreDep) -> Session:
    """The request's session; LoginRequired without one."""
    session = await sessions.find(store.redis, request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


async def supervisor(session: SignedIn) -> Session:
    """The session of a supervisor; SupervisorsOnly for an operator."""
    if not session.account.supervisor:
        raise SupervisorsOnly
    return session


Supervisor = Annotated[Session, Depends(supervisor)]


async def checked_form(request: Request, session: SignedIn) -> FormData:
    """The posted form, when it carries the session's CSRF token; FormExpired otherwise."""
    form = await request.form()
    if not sessions.csrf_ok(session, str(form.get("csrf") or "")):
        raise FormExpired
    return form


Checked = Annotated[FormData, Depends(checked_form)]
