"""What every console page shares: where it is mounted, how a page is rendered, and the
dependencies that give a route its session, its checked form or its supervisor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from bot.store import Store
from handoff import sessions
from handoff.sessions import COOKIE, Session
from handoff.views import Texts

HERE = Path(__file__).parent
PREFIX = "/console"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


class LoginRequired(Exception):
    """The request has no valid session: the browser goes to the login page."""


class FormExpired(Exception):
    """A form came without the session's CSRF token."""


class SupervisorsOnly(Exception):
    """An operator asked for a supervisor's page."""


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A console template, in the signed-in user's language (English before sign-in)."""
    session: Session | None = context.get("session")
    language = session.account.language if session else "en"
    return TEMPLATES.TemplateResponse(
        request, name, {"t": Texts(language), "prefix": PREFIX, **context}, status_code=status
    )


def store_of(request: Request) -> Store:
    """The conversation store the app was started with."""
    store: Store = request.app.state.store
    return store


async def signed_in(request: Request) -> Session:
    """The request's session; LoginRequired without one."""
    session = await sessions.find(store_of(request).redis, request.cookies.get(COOKIE))
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
