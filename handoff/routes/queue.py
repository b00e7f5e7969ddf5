"""The console's queue: who waits, most urgent first, the conversations operators hold and the
recent ones with the assistant; the page, and its tables alone for live updates."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot import memory, ngos
from bot.store import State, Store
from handoff import accounts
from handoff.deps import FeedDep, SignedIn, StoreDep
from handoff.pages import PREFIX, render
from handoff.sessions import Session
from handoff.views import queue_rows

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("")
async def queue_page(
    request: Request, store: StoreDep, feed: FeedDep, session: SignedIn
) -> HTMLResponse:
    """The queue: who waits, most urgent first; and the conversations operators hold."""
    await store.operator_seen(session.account.name)
    since = await feed.newest()
    context = await _queue_context(store, session)
    return render(request, "queue.html", {**context, "since": since})


@router.get("/queue")
async def queue_part(request: Request, store: StoreDep, session: SignedIn) -> HTMLResponse:
    """The queue's tables alone, for live updates."""
    context = await _queue_context(store, session)
    return render(request, "_queue.html", context)


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
