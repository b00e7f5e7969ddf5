"""The web chat: a page, an embeddable widget, an endpoint that receives messages and a stream of
replies (server-sent events) that a reconnecting page resumes where it stopped."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from bot.page_streams import PageStreams
from bot.store import Inbound, Store, web_key

STATIC = Path(__file__).parent / "static"
CHANNEL = "web"
CLIENT_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
REFERRAL_PATTERN = r"^[A-Za-z0-9_-]{0,64}$"
# What a page may send in one message; the router reads the first 4,000 characters.
MAX_TEXT = 20_000


class WebMessage(BaseModel):
    """A message typed (or a button pressed) in the web chat."""

    client: str = Field(pattern=CLIENT_PATTERN, description="the page's random id for this chat")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    ref: str = Field(default="", pattern=REFERRAL_PATTERN, description="the NGO's referral code")


def routes(store: Store, pages: PageStreams) -> APIRouter:
    """The web chat's endpoints and files; `pages` wakes the open pages' streams."""
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        """The chat page (also what the widget shows in its frame)."""
        return FileResponse(STATIC / "index.html")

    @router.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        """The script an NGO pastes into its site."""
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    @router.post("/chat/messages", status_code=202)
    async def receive(message: WebMessage) -> JSONResponse:
        """Queues a message; sending the same id again changes nothing."""
        accepted = await store.accept(
            Inbound(
                channel=CHANNEL,
                user=message.client,
                event_id=f"{message.client}:{message.id}",
                text=message.text,
                referral=message.ref,
            )
        )
        return JSONResponse({"queued": accepted is not None}, status_code=202)

    @router.get("/chat/events")
    async def events(
        request: Request,
        client: Annotated[str, Query(pattern=CLIENT_PATTERN)],
        since: Annotated[str, Query(pattern=r"^\d+-\d+$")] = "0-0",
        last_event_id: Annotated[str | None, Header(pattern=r"^\d+-\d+$")] = None,
    ) -> StreamingResponse:
        """The replies of this chat as server-sent events, from after `since` (or Last-Event-ID)."""
        conv = store.conversation_id(CHANNEL, client)
        start = last_event_id or since

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            async for found in pages.replies(web_key(conv), conv, start):
                if await request.is_disconnected():
                    return
                if not found:
                    yield ": keep-alive\n\n"
                for entry_id, fields in found:
                    data = {
                        "replies": store.sealer.open(fields["replies"]),
                        "reply_to": fields.get("reply_to"),
                    }
                    yield f"id: {entry_id}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    return router
