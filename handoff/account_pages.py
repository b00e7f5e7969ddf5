"""The console's accounts page (supervisors only): every account with its role and console
language, and the languages of the people each one reads, which a supervisor sets here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handoff import accounts
from handoff.pages import PREFIX, Checked, Supervisor, render, store_of

Name = Annotated[str, PathParam(pattern=accounts.NAME_PATTERN)]


def routes() -> APIRouter:
    """The accounts page's routes."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/accounts")
    async def account_list(request: Request, session: Supervisor) -> HTMLResponse:
        """Every account and what it reads."""
        everyone = await accounts.everyone(store_of(request).redis)
        return render(request, "accounts.html", {"session": session, "accounts": everyone})

    @router.post("/accounts/{name}/reads")
    async def set_reads(
        request: Request, session: Supervisor, form: Checked, name: Name
    ) -> Response:
        """Sets the languages of the people an account reads."""
        store = store_of(request)
        chosen = tuple(str(x) for x in form.getlist("reads"))
        try:
            await accounts.set_reads(store.redis, name, accounts.parse_reads(" ".join(chosen)))
        except accounts.AccountError:
            return render(
                request, "error.html", {"session": session, "key": "account_unknown"}, 404
            )
        await store.audit(session.account.name, "account_saved", detail=name)
        return RedirectResponse(f"{PREFIX}/accounts", status_code=303)

    return router
