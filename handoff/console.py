"""The operator console: FastAPI, pages rendered by Jinja2 on the server (autoescaped), a small
script of our own for live updates. Mounted at /console on the gateway's app by `install`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.store import Store
from handoff.alerts import Alerts
from handoff.console_feed import ConsoleFeed
from handoff.deps import FormExpired, LoginRequired, SupervisorsOnly
from handoff.pages import HERE, PREFIX, render
from handoff.routes import (
    accounts,
    audit,
    auth,
    conversations,
    dead_letters,
    events,
    ngos,
    partners,
    queue,
    referrals,
    reports,
    voices,
)
from handoff.translation import Translator

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def install(app: FastAPI, translator: Translator | None = None) -> None:
    """Adds the console to the gateway's app, whose state holds the store and the settings
    (bot.app.create_app): routes, static files, error pages, headers.
    `translator`: machine translation for operators (TRANSLATE_URL); none unless set."""
    store: Store = app.state.store
    app.state.translator = translator
    app.state.alerts = Alerts(store)
    app.state.console_feed = ConsoleFeed(store.redis)
    for router in routers():
        app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    async def to_login(request: Request, error: Exception) -> Response:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)

    async def expired(request: Request, error: Exception) -> Response:
        return render(request, "error.html", {"key": "expired_form"}, 403)

    async def forbidden(request: Request, error: Exception) -> Response:
        return render(request, "error.html", {"key": "forbidden"}, 403)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(FormExpired, expired)
    app.add_exception_handler(SupervisorsOnly, forbidden)

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            response.headers.update(SECURITY_HEADERS)
        return response


def routers() -> list[APIRouter]:
    """Every router of the console, one per resource."""
    return [
        auth.router,
        queue.router,
        conversations.router,
        audit.router,
        dead_letters.router,
        voices.router,
        partners.router,
        referrals.router,
        events.router,
        ngos.router,
        reports.router,
        accounts.router,
    ]
