"""The console's audit log (supervisors only): who did or saw what and when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from handoff.deps import StoreDep, Supervisor
from handoff.pages import PREFIX, render
from handoff.routes.conversations import CONV_PATTERN

AUDIT_PAGE = 100

router = APIRouter(prefix=f"{PREFIX}/audit", include_in_schema=False)


@router.get("")
async def audit(
    request: Request,
    store: StoreDep,
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
