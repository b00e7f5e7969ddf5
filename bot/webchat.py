"""The web chat: a page, an embeddable widget, an endpoint that receives messages and a stream of
replies (server-sent events) that a reconnecting page resumes where it stopped.

The page's random client id is the chat's only credential (whoever has it reads the replies), so
it never goes into a URL, where proxies and servers log it: the page posts it for a one-use ticket
that opens the stream once, within TICKET_SECONDS, and asks for a new one to reconnect."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import json
import math
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from bot import metrics, ngos, voices
from bot.byte_ranges import ranged
from bot.channel_names import WEB
from bot.limits import Limit, Limiter, address_group
from bot.media import FILES_PATH, MediaStore, Refused
from bot.media import preview as preview_of
from bot.page_streams import PageStreams
from bot.store import Inbound, Store, web_key, web_ticket_key
from bot.voices import Voices

STATIC = Path(__file__).parent / "static"
CHANNEL = WEB
CLIENT_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
REFERRAL_PATTERN = r"^[A-Za-z0-9_-]{0,64}$"
# What a page may send in one message; the first 4,000 characters are kept (bot/store.py).
MAX_TEXT = 20_000
TICKET_SECONDS = 60
# Where a page uploads a photo, recording or file (its body may be larger than any other's).
MEDIA_PATH = "/chat/media"
# Uploads read at once by one web process (each may hold 20 MB in memory); past it, 503 with
# Retry-After, and the page sends it again by itself.
UPLOADS_AT_ONCE = 4
# The message kind of an upload, named as Telegram names them.
KINDS = {"image": "photo", "audio": "audio", "video": "video", "file": "document"}
TICKET_PATTERN = r"^[A-Za-z0-9_-]{43}$"
SOUND_TYPES = {"m4a": "audio/mp4", "ogg": "audio/ogg"}
# The page loads nothing from elsewhere and runs no inline script. Only the chat page may be framed
# (by the widget), and only by the sites registered for the NGO whose code it carries.
POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# Where "leave quickly" goes unless the widget of a registered site names a page of that site.
DEFAULT_EXIT = "https://www.google.com/"
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")


class WebMessage(BaseModel):
    """A message typed (or a button pressed) in the web chat."""

    client: str = Field(pattern=CLIENT_PATTERN, description="the page's random id for this chat")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    ref: str = Field(default="", pattern=REFERRAL_PATTERN, description="the NGO's referral code")


class TicketRequest(BaseModel):
    """A page asking to open (or reopen) its chat's stream of replies."""

    client: str = Field(pattern=CLIENT_PATTERN, description="the page's random id for this chat")


def routes(
    store: Store, pages: PageStreams, limits: dict[str, Limit], media: MediaStore, sounds: Voices
) -> APIRouter:
    """The web chat's endpoints and files; `pages` wakes the open pages' streams; `limits` bound
    what one address or chat may send (bot/limits.py); `media` keeps what pages upload; `sounds`
    are the texts read aloud (bot/voices.py)."""
    router = APIRouter()
    limiter = Limiter(store.redis, store.id_secret)
    uploads = asyncio.Semaphore(UPLOADS_AT_ONCE)

    async def refused(*checks: tuple[str, str]) -> JSONResponse | None:
        """429 with Retry-After when the address or the chat sent too much lately."""
        for name, sender in checks:
            seconds = await limiter.wait(limits[name], sender)
            if seconds:
                metrics.refused(name)
                wait = str(max(1, math.ceil(seconds)))
                body = {"detail": "too many messages, try again later", "retry_after": wait}
                return JSONResponse(body, status_code=429, headers={"Retry-After": wait})
        return None

    @router.get("/", include_in_schema=False)
    async def page(
        ref: str = "",
        embed: str = "",
        exit_to: Annotated[str, Query(alias="exit")] = "",
        sec_fetch_dest: Annotated[str, Header()] = "",
    ) -> HTMLResponse:
        """The chat page, also what the widget shows in its frame: only the sites registered for
        the NGO of `ref` may frame it, and "leave quickly" goes to the widget's `exit` only when
        that is a page of one of them and the browser says the page is loaded in a frame (a link
        cannot say so)."""
        ngo = await ngos.find(store.redis, ref) if ngos.CODE.match(ref) else None
        sites = ngo.sites if ngo else ()
        framed = embed == "1" and sec_fetch_dest == "iframe"
        leave = exit_to if framed and ngos.origin(exit_to) in sites else DEFAULT_EXIT
        body = PAGE.replace(f'data-exit="{DEFAULT_EXIT}"', f'data-exit="{html.escape(leave)}"')
        policy = f"{POLICY}; frame-ancestors " + " ".join(("'self'", *sites))
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})

    @router.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        """The script an NGO pastes into its site."""
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    @router.post("/chat/messages", status_code=202)
    async def receive(request: Request, message: WebMessage) -> JSONResponse:
        """Queues a message; sending the same id again changes nothing. 429 when this address or
        this chat sent too much lately (the page sends it again after Retry-After)."""
        address = address_group(request.client.host if request.client else "")
        limited = await refused(
            ("web-chat", message.client),
            ("web-address", address),
            ("web-address-minute", address),
        )
        if limited is not None:
            return limited
        accepted = await store.accept(
            Inbound(
                channel=CHANNEL,
                user=message.client,
                event_id=f"{message.client}:{message.id}",
                text=message.text,
                referral=message.ref,
            )
        )
        if accepted is not None:
            metrics.received(CHANNEL)
        return JSONResponse({"queued": accepted is not None}, status_code=202)

    @router.post(MEDIA_PATH, status_code=202)
    async def upload(
        request: Request,
        x_chat_client: Annotated[str, Header(pattern=CLIENT_PATTERN)],
        x_message_id: Annotated[str, Header(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
        x_chat_ref: Annotated[str, Header(pattern=REFERRAL_PATTERN)] = "",
    ) -> JSONResponse:
        """Queues a photo, recording or file (the raw body, up to bot/media.py's MOST_BYTES): it
        is kept at once (the type read from the bytes, an image without its metadata) and the
        assistant tells the person what becomes of it, or why it was not kept. The chat's id
        comes in a header, never in the URL. Sending the same id again changes nothing."""
        client = x_chat_client
        address = address_group(request.client.host if request.client else "")
        limited = await refused(
            ("web-media", client),
            ("web-chat", client),
            ("web-address", address),
            ("web-address-minute", address),
        )
        if limited is not None:
            return limited
        inbound = Inbound(CHANNEL, client, f"{client}:{x_message_id}", referral=x_chat_ref)
        if await store.seen(inbound):
            return JSONResponse({"queued": False}, status_code=202)
        if uploads.locked():
            headers = {"Retry-After": "2"}
            return JSONResponse({"detail": "busy, send it again"}, status_code=503, headers=headers)
        conv = store.conversation_id(CHANNEL, client)
        kept: dict[str, Any]
        async with uploads:
            try:
                ref = await media.save(conv, await request.body())
                kind, kept = KINDS[ref["kind"]], {"stored": ref}
            except Refused as refusal:
                kind, kept = "document", {"refused": refusal.reason}
        sent = dataclasses.replace(inbound, kind=kind, media=kept)
        accepted = await store.accept(sent)
        if accepted is not None:
            metrics.received(CHANNEL)
        return JSONResponse({"queued": accepted is not None}, status_code=202)

    @router.get(FILES_PATH + "/{token}")
    async def linked_file(
        request: Request,
        token: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_=-]{40,400}$")],
        preview: bool = False,
    ) -> Response:
        """A photo, recording or file an operator sent, by the link the person's page or LINE
        was given (bot/media.py's link: it expires); `preview` gives a small JPEG of a photo.
        404 for a link that is unknown, expired, or whose conversation was forgotten."""
        address = address_group(request.client.host if request.client else "")
        limited = await refused(("web-pages", address))
        if limited is not None:
            return limited
        found = media.linked(token)
        kept = await media.read(*found) if found else None
        if kept is None:
            return JSONResponse({"detail": "no such file, or the link expired"}, status_code=404)
        mime, data = kept
        if preview and mime.startswith("image/"):
            mime, data = "image/jpeg", await asyncio.to_thread(preview_of, data)
        headers = {
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "attachment" if mime == "application/pdf" else "inline",
        }
        return ranged(request.headers.get("range"), data, mime, headers)

    @router.get(voices.PATH + "/{name}/{language}.{form}")
    async def sound(
        request: Request,
        name: Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,40}$")],
        language: Annotated[str, PathParam(pattern=r"^[a-z]{2}$")],
        form: Annotated[str, PathParam(pattern=r"^(m4a|ogg)$")],
    ) -> Response:
        """A text read aloud (the menu, a screening question) as the web chat and LINE play it:
        the same for everyone, so anyone may fetch it; 404 when there is no sound for it."""
        address = address_group(request.client.host if request.client else "")
        limited = await refused(("web-pages", address))
        if limited is not None:
            return limited
        found = await sounds.sound(name, language, form)
        if found is None:
            return JSONResponse({"detail": "no sound for this text"}, status_code=404)
        headers = {"Cache-Control": "public, max-age=300"}
        return ranged(request.headers.get("range"), found.data, SOUND_TYPES[form], headers)

    @router.post("/chat/tickets", status_code=201)
    async def ticket(request: Request, asked: TicketRequest) -> JSONResponse:
        """A ticket that opens this chat's stream of replies once, within TICKET_SECONDS; only
        its digest is stored. 429 when this address opened too many pages lately."""
        address = address_group(request.client.host if request.client else "")
        limited = await refused(("web-pages", address))
        if limited is not None:
            return limited
        given = secrets.token_urlsafe(32)
        conv = store.conversation_id(CHANNEL, asked.client)
        await store.redis.set(web_ticket_key(_digest(given)), conv, ex=TICKET_SECONDS)
        headers = {"Cache-Control": "no-store"}
        return JSONResponse({"ticket": given}, status_code=201, headers=headers)

    @router.get("/chat/events")
    async def events(
        request: Request,
        ticket: Annotated[str, Query(pattern=TICKET_PATTERN)],
        since: Annotated[str, Query(pattern=r"^\d+-\d+$")] = "0-0",
        last_event_id: Annotated[str | None, Header(pattern=r"^\d+-\d+$")] = None,
    ) -> Response:
        """The replies of the ticket's chat as server-sent events, from after `since` (or
        Last-Event-ID); 403 when the ticket is unknown, used or expired."""
        conv = await store.redis.getdel(web_ticket_key(_digest(ticket)))
        if conv is None:
            body = {"detail": "unknown, used or expired ticket: ask for a new one"}
            return JSONResponse(body, status_code=403)
        start = last_event_id or since

        async def stream() -> AsyncIterator[str]:
            # At once, so that the page (and any proxy on the way) sees the stream open.
            yield ": open\n\n"
            async for found in pages.replies(web_key(conv), conv, start):
                if await request.is_disconnected():
                    return
                if not found:
                    yield ": keep-alive\n\n"
                for entry_id, fields in found:
                    data = {
                        "replies": [
                            _shown(reply, conv, media)
                            for reply in store.sealer.open(fields["replies"])
                        ],
                        "reply_to": fields.get("reply_to"),
                    }
                    yield f"id: {entry_id}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    return router


def _shown(reply: dict[str, Any], conv: str, media: MediaStore) -> dict[str, Any]:
    """A reply as the page gets it: a photo, recording or file an operator sent as its kind and
    a link that expires, never the stored reference."""
    if "media" not in reply:
        return reply
    sent = reply["media"]
    link = f"{FILES_PATH}/{media.link(conv, str(sent['id']), 'web')}"
    return {"file": {"url": link, "kind": sent.get("kind"), "mime": sent.get("mime")}}


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()
