"""The console's live updates: hand-off events as server-sent events, each marked with whether it
alerts this user (handoff/alerts.py decides)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from handoff.alerts import danger_alerts
from handoff.deps import AlertsDep, FeedDep, SignedIn, StoreDep
from handoff.pages import PREFIX

router = APIRouter(prefix=f"{PREFIX}/events", include_in_schema=False)


@router.get("")
async def events(
    request: Request,
    store: StoreDep,
    alerts: AlertsDep,
    feed: FeedDep,
    session: SignedIn,
    since: Annotated[str | None, Query(pattern=r"^\d+-\d+$")] = None,
    last_event_id: Annotated[str | None, Header(pattern=r"^\d+-\d+$")] = None,
) -> StreamingResponse:
    """Hand-off events after `since` (or Last-Event-ID) as server-sent events; also keeps
    the operator marked online."""
    name = session.account.name

    async def stream() -> AsyncIterator[str]:
        position = last_event_id or since or await feed.newest()
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
