"""The console's dead letters (supervisors only): messages and replies that failed again and again
and were set aside, with a button to send each one again once the cause is fixed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse

from handoff.deps import Checked, StoreDep, Supervisor
from handoff.pages import PREFIX, render

LetterId = Annotated[str, PathParam(pattern=r"^\d+-\d+$")]

router = APIRouter(prefix=f"{PREFIX}/dead-letters", include_in_schema=False)


@router.get("")
async def dead_letters(request: Request, store: StoreDep, session: Supervisor) -> HTMLResponse:
    """The dead letters, newest first: when, what, which conversation and channel, why."""
    context = {"session": session, "letters": await store.dead_letters()}
    return render(request, "dead_letters.html", context)


@router.post("/{letter}/retry")
async def retry(
    store: StoreDep, session: Supervisor, form: Checked, letter: LetterId
) -> RedirectResponse:
    """Sends a dead letter again, as its conversation's newest entry; audited."""
    found = await store.dead_letter(letter)
    done = await store.retry(letter)
    if found is not None and done:
        await store.audit(session.account.name, "dead_letter_retried", found.conv)
    outcome = {1: "retried", 0: "already", -1: "gone"}[done]
    return RedirectResponse(f"{PREFIX}/dead-letters?done={outcome}", status_code=303)
