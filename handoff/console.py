"""The console's pages and actions: FastAPI, pages rendered by Jinja2 on the server (autoescaped),
a small script of our own for live updates. Mounted at /console by `install`."""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from bot import memory, ngos
from bot.store import CONSOLE, NotAllowed, State, Store
from handoff import account_pages, accounts, ngo_pages, reports, sessions
from handoff.alerts import Alerts, danger_alerts
from handoff.console_feed import ConsoleFeed
from handoff.pages import (
    HERE,
    PREFIX,
    Checked,
    FormExpired,
    LoginRequired,
    SignedIn,
    Supervisor,
    SupervisorsOnly,
    render,
)
from handoff.sessions import COOKIE, Session
from handoff.translation import Translator
from handoff.views import Preview, conversation_view, queue_rows, reply_text

CONV_PATTERN = r"^[a-z]{2}-[0-9a-f]{40}$"
LOGIN_COOKIE = "hl_login"
AUDIT_PAGE = 100
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

Conv = Annotated[str, PathParam(pattern=CONV_PATTERN)]


def install(
    app: FastAPI, store: Store, secure_cookies: bool = False, translator: Translator | None = None
) -> None:
    """Adds the console to the gateway's app: routes, static files, error pages, headers.
    `secure_cookies`: send the session cookie over HTTPS only (when served behind HTTPS).
    `translator`: machine translation for operators (TRANSLATE_URL); none unless set."""
    app.state.translator = translator
    app.state.alerts = Alerts(store)
    app.state.console_feed = ConsoleFeed(store.redis)
    for router in routers(store, secure_cookies):
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


def routers(store: Store, secure_cookies: bool) -> list[APIRouter]:
    """Every router of the console's pages."""
    return [
        routes(store, secure_cookies),
        ngo_pages.routes(),
        reports.routes(),
        account_pages.routes(),
    ]


def routes(store: Store, secure_cookies: bool) -> APIRouter:
    """The console's routes; every one but the login page needs a session."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    redis = store.redis

    async def last_event() -> str:
        """The console stream's newest id, read before a page's data, so that the page's live
        updates start from there and miss nothing that happened while it loaded."""
        newest = await redis.xrevrange(CONSOLE, count=1)
        return str(newest[0][0]) if newest else "0-0"

    @router.get("/login")
    async def login_page(request: Request) -> HTMLResponse:
        """The sign-in form (with a CSRF token of its own, before any session)."""
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", {"csrf": token, "error": None})
        _set_cookie(response, LOGIN_COOKIE, token, 600, secure_cookies)
        return response

    @router.post("/login")
    async def login(
        request: Request,
        user: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        """Signs in. Too many attempts at an account or from an address are refused for a while,
        but not from a browser that has signed in to that account before."""
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            raise FormExpired
        address = request.client.host if request.client else ""
        name = user.strip().lower()
        device = request.cookies.get(sessions.DEVICE_COOKIE)
        attempt = await sessions.login_attempt(redis, name, address, device)
        if attempt.wait:
            context = {
                "csrf": expected,
                "error": "login_blocked",
                "minutes": math.ceil(attempt.wait / 60),
            }
            refused = render(request, "login.html", context, 429)
            refused.headers["Retry-After"] = str(attempt.wait)
            return refused
        account = await accounts.verify(redis, name, password)
        if account is None:
            await sessions.login_failed(redis, name)
            context = {"csrf": expected, "error": "login_failed"}
            return render(request, "login.html", context, 401)
        device = await sessions.login_succeeded(redis, account, attempt, device)
        session = await sessions.start(redis, account)
        await store.audit(account.name, "login")
        response = RedirectResponse(PREFIX, status_code=303)
        _set_cookie(response, COOKIE, session.token, sessions.IDLE_SECONDS, secure_cookies)
        _set_cookie(
            response, sessions.DEVICE_COOKIE, device, sessions.DEVICE_SECONDS, secure_cookies
        )
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @router.post("/logout")
    async def logout(session: SignedIn, form: Checked) -> Response:
        """Signs out."""
        await sessions.end(redis, session.token)
        await store.audit(session.account.name, "logout")
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @router.post("/language")
    async def language(session: SignedIn, form: Checked) -> Response:
        """Switches the console between English and Thai for this user."""
        await accounts.set_language(redis, session.account.name, str(form.get("language")))
        return RedirectResponse(str(form.get("back") or PREFIX), status_code=303)

    @router.get("")
    async def queue_page(request: Request, session: SignedIn) -> HTMLResponse:
        """The queue: who waits, most urgent first; and the conversations operators hold."""
        await store.operator_seen(session.account.name)
        since = await last_event()
        context = await _queue_context(store, session)
        return render(request, "queue.html", {**context, "since": since})

    @router.get("/queue")
    async def queue_part(request: Request, session: SignedIn) -> HTMLResponse:
        """The queue's tables alone, for live updates."""
        context = await _queue_context(store, session)
        return render(request, "_queue.html", context)

    async def show(
        request: Request,
        session: Session,
        conv: str,
        name: str,
        error: str = "",
        preview: Preview | None = None,
    ) -> HTMLResponse:
        since = await last_event()
        translator: Translator | None = request.app.state.translator
        view = await conversation_view(store, conv, session.account, translator)
        if view is None:
            return render(request, "error.html", {"session": session, "key": "gone"}, 404)
        others = [a for a in await accounts.everyone(redis) if a.name != session.account.name]
        context = {
            "session": session,
            "view": view,
            "others": others,
            "error": error,
            "since": since,
            "preview": preview,
            "translating": translator is not None,
        }
        return render(request, name, context, 409 if error else 200)

    @router.get("/c/{conv}")
    async def conversation(request: Request, session: SignedIn, conv: Conv) -> HTMLResponse:
        """One conversation: summary, answers, transcript, notes and what the operator can do."""
        response = await show(request, session, conv, "conversation.html")
        if response.status_code == 200:
            await store.audit(session.account.name, "viewed", conv)
        return response

    @router.get("/c/{conv}/live")
    async def conversation_part(request: Request, session: SignedIn, conv: Conv) -> HTMLResponse:
        """The parts of a conversation page that change, for live updates."""
        return await show(request, session, conv, "_live.html")

    async def act(
        request: Request,
        session: Session,
        conv: str,
        event: str,
        **change: Any,
    ) -> Response:
        try:
            await store.change(
                conv, event, session.account.name, supervisor=session.account.supervisor, **change
            )
        except NotAllowed as error:
            return await show(request, session, conv, "conversation.html", str(error))
        detail = change.get("to") or change.get("risk") or ""
        await store.audit(session.account.name, event, conv, detail)
        return RedirectResponse(f"{PREFIX}/c/{conv}", status_code=303)

    @router.post("/c/{conv}/claim")
    async def claim(request: Request, session: SignedIn, form: Checked, conv: Conv) -> Response:
        """Takes the conversation; only one operator can hold it."""
        return await act(request, session, conv, "claim")

    @router.post("/c/{conv}/reply")
    async def reply(request: Request, session: SignedIn, form: Checked, conv: Conv) -> Response:
        """Sends the typed text, or the chosen ready-made reply in the person's language."""
        found = await store.conversation(conv)
        text = reply_text(
            str(form.get("text") or ""), str(form.get("canned") or ""), found.get("language", "")
        )
        if not text:
            return RedirectResponse(f"{PREFIX}/c/{conv}", status_code=303)
        return await act(request, session, conv, "reply", say=text)

    @router.post("/c/{conv}/translate")
    async def translate(
        request: Request, session: SignedIn, form: Checked, conv: Conv
    ) -> HTMLResponse:
        """A typed reply machine-translated into the person's language, shown for the operator to
        check (and translated back) before it is sent; nothing is sent here."""
        translator: Translator | None = request.app.state.translator
        typed = str(form.get("text") or "").strip()[:4000]
        language = (await store.conversation(conv)).get("language", "")
        if translator is None or not typed or not language:
            return await show(request, session, conv, "conversation.html")
        mine = session.account.language
        there = await translator.translate(typed, mine, language)
        back = await translator.translate(there, language, mine) if there else None
        preview = Preview(typed=typed, translated=there, back=back)
        return await show(request, session, conv, "conversation.html", preview=preview)

    @router.post("/c/{conv}/note")
    async def note(session: SignedIn, form: Checked, conv: Conv) -> Response:
        """Adds a private note."""
        text = str(form.get("text") or "").strip()[:4000]
        if text:
            await store.add_note(conv, session.account.name, text)
            await store.audit(session.account.name, "note", conv)
        return RedirectResponse(f"{PREFIX}/c/{conv}", status_code=303)

    @router.post("/c/{conv}/transfer")
    async def transfer(request: Request, session: SignedIn, form: Checked, conv: Conv) -> Response:
        """Hands the conversation to another operator."""
        to = str(form.get("to") or "")
        if await accounts.find(redis, to) is None:
            return RedirectResponse(f"{PREFIX}/c/{conv}", status_code=303)
        return await act(request, session, conv, "transfer", to=to)

    @router.post("/c/{conv}/close")
    async def close(request: Request, session: SignedIn, form: Checked, conv: Conv) -> Response:
        """Ends the hand-off: the person is told how to come back, the assistant answers again."""
        found = await store.conversation(conv)
        text = reply_text("", "", found.get("language", ""), closing=True)
        return await act(request, session, conv, "close", say=text)

    @router.post("/c/{conv}/risk")
    async def risk(request: Request, session: SignedIn, form: Checked, conv: Conv) -> Response:
        """Sets the risk: the only way a danger said while handed off is lowered."""
        return await act(request, session, conv, "risk", risk=str(form.get("risk") or ""))

    @router.get("/audit")
    async def audit(
        request: Request,
        session: Supervisor,
        conv: Annotated[str, Query(pattern=CONV_PATTERN + "|^$")] = "",
        before: Annotated[str, Query(pattern=r"^(\d+-\d+)?$")] = "",
    ) -> HTMLResponse:
        """Who did or saw what (supervisors only), newest first, a page at a time (older ones
        `before` an entry); one conversation's lines with ?conv=, from its own index."""
        found = await store.audit_page(conv, before, AUDIT_PAGE)
        entries = [{"id": entry_id, **fields} for entry_id, fields in found]
        older = entries[-1]["id"] if len(entries) == AUDIT_PAGE else ""
        await store.audit(session.account.name, "audit_read", conv)
        context = {"session": session, "entries": entries, "conv": conv, "older": older}
        return render(request, "audit.html", context)

    @router.get("/events")
    async def events(
        request: Request,
        session: SignedIn,
        since: Annotated[str | None, Query(pattern=r"^\d+-\d+$")] = None,
        last_event_id: Annotated[str | None, Header(pattern=r"^\d+-\d+$")] = None,
    ) -> StreamingResponse:
        """Hand-off events after `since` (or Last-Event-ID) as server-sent events; also keeps
        the operator marked online."""
        name = session.account.name
        alerts: Alerts = request.app.state.alerts
        feed: ConsoleFeed = request.app.state.console_feed

        async def stream() -> AsyncIterator[str]:
            position = last_event_id or since or await last_event()
            yield "retry: 2000\n\n"
            await store.operator_seen(name)
            async for found in feed.events(position):
                if await request.is_disconnected():
                    return
                await store.operator_seen(name)
                if not found:
                    yield ": keep-alive\n\n"
                for entry_id, fields in found:
                    kind = fields.get("kind")
                    data: dict[str, Any] = {k: fields.get(k, "") for k in ("kind", "conv", "risk")}
                    data["alert"] = kind == "danger" and danger_alerts(fields, session.account)
                    if kind == "queued":
                        alert = await alerts.queued(entry_id, fields, session.account)
                        if alert is None:
                            continue
                        data["alert"] = alert
                    yield f"id: {entry_id}\ndata: {json.dumps(data)}\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    return router


async def _queue_context(store: Store, session: Session) -> dict[str, Any]:
    now = time.time()
    account = session.account
    online = await store.who_is_online()
    routed = ngos.route(
        await store.waiting(),
        account.name,
        account.supervisor,
        await ngos.teams(store.redis),
        online,
    )
    waiting = queue_rows(routed, now)
    held = queue_rows(await store.with_operators(), now)
    mine = [row for row in held if row.operator == session.account.name]
    others = [row for row in held if row.operator != session.account.name]
    return {
        "session": session,
        "waiting": waiting,
        "mine": mine,
        "others": others,
        "recent": queue_rows(await store.recent(), now),
        "online": len(online),
        "readers": await accounts.who_reads(store.redis, online),
        "states": State,
        "memory": await memory.alert(store.redis) if account.supervisor else None,
    }


def _set_cookie(response: Response, name: str, value: str, seconds: int, secure: bool) -> None:
    response.set_cookie(
        name, value, max_age=seconds, path=PREFIX, httponly=True, samesite="strict", secure=secure
    )
