"""Signing in and out of the console, and the signed-in user's console language."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import metrics
from bot.settings import Settings
from handoff import accounts, sessions
from handoff.deps import Checked, FormExpired, SettingsDep, SignedIn, StoreDep
from handoff.pages import PREFIX, render
from handoff.sessions import COOKIE

LOGIN_COOKIE = "hl_login"

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/login")
async def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The sign-in form (with a CSRF token of its own, before any session)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"csrf": token, "error": None})
    _set_cookie(response, LOGIN_COOKIE, token, 600, settings)
    return response


@router.post("/login")
async def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    user: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Signs in. Too many attempts at an account or from an address are refused for a while,
    but not from a browser that has signed in to that account before."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise FormExpired
    redis = store.redis
    address = request.client.host if request.client else ""
    name = user.strip().lower()
    device = request.cookies.get(sessions.DEVICE_COOKIE)
    attempt = await sessions.login_attempt(redis, name, address, device)
    if attempt.wait:
        metrics.refused(metrics.SIGN_IN)
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
    _set_cookie(response, COOKIE, session.token, sessions.IDLE_SECONDS, settings)
    _set_cookie(response, sessions.DEVICE_COOKIE, device, sessions.DEVICE_SECONDS, settings)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(store: StoreDep, session: SignedIn, form: Checked) -> Response:
    """Signs out."""
    await sessions.end(store.redis, session.token)
    await store.audit(session.account.name, "logout")
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.post("/language")
async def language(store: StoreDep, session: SignedIn, form: Checked) -> Response:
    """Switches the console between English and Thai for this user."""
    await accounts.set_language(store.redis, session.account.name, str(form.get("language")))
    return RedirectResponse(str(form.get("back") or PREFIX), status_code=303)


def _set_cookie(
    response: Response, name: str, value: str, seconds: int, settings: Settings
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https:"),
    )
