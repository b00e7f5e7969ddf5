"""The console's accounts page (supervisors only): every account with its role and console
language, the languages of the people each one reads and its failed sign-ins of the last day; a
supervisor sets what it reads, disables or enables it, or gives it a new password here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.store import Store
from handoff import accounts, sessions
from handoff.deps import Checked, StoreDep, Supervisor
from handoff.pages import PREFIX, render
from handoff.sessions import Session

Name = Annotated[str, PathParam(pattern=accounts.NAME_PATTERN)]

router = APIRouter(prefix=f"{PREFIX}/accounts", include_in_schema=False)


async def changed(
    request: Request,
    store: Store,
    session: Session,
    name: str,
    change: Callable[[], Awaitable[None]],
    event: str,
    done: Response | None = None,
) -> Response:
    """Makes the change and audits it, then `done` (by default, back to the list); 404 when
    there is no such account."""
    try:
        await change()
    except accounts.AccountError:
        context = {"session": session, "key": "account_unknown"}
        return render(request, "error.html", context, 404)
    await store.audit(session.account.name, event, detail=name)
    return done or RedirectResponse(f"{PREFIX}/accounts", status_code=303)


@router.get("")
async def account_list(request: Request, store: StoreDep, session: Supervisor) -> HTMLResponse:
    """Every account, disabled ones too: what it reads, its failed sign-ins."""
    context = {
        "session": session,
        "accounts": await accounts.roster(store.redis),
        "failures": await sessions.failed_logins(store.redis),
    }
    return render(request, "accounts.html", context)


@router.post("/{name}/reads")
async def set_reads(
    request: Request, store: StoreDep, session: Supervisor, form: Checked, name: Name
) -> Response:
    """Sets the languages of the people an account reads."""
    chosen = " ".join(str(x) for x in form.getlist("reads"))

    async def change() -> None:
        await accounts.set_reads(store.redis, name, accounts.parse_reads(chosen))

    return await changed(request, store, session, name, change, "account_saved")


@router.post("/{name}/disable")
async def disable(
    request: Request, store: StoreDep, session: Supervisor, form: Checked, name: Name
) -> Response:
    """Disables an account: it cannot sign in, and its open sessions stop at once. Not one's
    own, so that supervisors cannot lock every supervisor out."""
    if name == session.account.name:
        context = {"session": session, "key": "account_not_yourself"}
        return render(request, "error.html", context, 409)
    change = partial(accounts.disable, store.redis, name)
    return await changed(request, store, session, name, change, "account_disabled")


@router.post("/{name}/enable")
async def enable(
    request: Request, store: StoreDep, session: Supervisor, form: Checked, name: Name
) -> Response:
    """Lets a disabled account sign in again, with its password."""
    change = partial(accounts.enable, store.redis, name)
    return await changed(request, store, session, name, change, "account_enabled")


@router.post("/{name}/password")
async def new_password(
    request: Request, store: StoreDep, session: Supervisor, form: Checked, name: Name
) -> Response:
    """Gives an account a new password, made here and shown this once, and ends its
    sessions."""
    password = accounts.new_password()
    shown = render(
        request, "password.html", {"session": session, "name": name, "password": password}
    )
    change = partial(accounts.set_password, store.redis, name, password)
    return await changed(request, store, session, name, change, "password_reset", shown)
