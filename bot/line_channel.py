"""LINE through line-bot-sdk v3: a webhook whose signature is checked on the raw body before
anything is stored; replies with the reply token while it is fresh, pushed otherwise; buttons as
quick replies; a follow event greets; a referral code read from a pre-filled first message.

An NGO's link pre-fills the first message with its code, e.g.
https://line.me/R/oaMessage/@hotline/?%E0%B8%AA%E0%B8%A7%E0%B8%B1%E0%B8%AA%E0%B8%94%E0%B8%B5%20ref:ngo-7
("สวัสดี ref:ngo-7"); the `ref:<code>` word is taken out before the assistant reads the message.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
import uuid
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    AudioMessage,
    Configuration,
    ImageMessage,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhooks import (
    FollowEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UserSource,
)

from bot.channel_names import LINE
from bot.chat_limits import ChatLimiter
from bot.commands import FOLLOWED
from bot.media import MOST_BYTES, Refused
from bot.senders import RetryLater, Undeliverable
from bot.store import Inbound

log = logging.getLogger(__name__)

CHANNEL = LINE
WEBHOOK_PATH = "/line/webhook"
DEFAULT_API = "https://api.line.me"
# Where the content of what people send (photos, recordings, files) is fetched.
DEFAULT_DATA_API = "https://api-data.line.me"
# The kinds that carry content the operators can be shown.
FILES = ("image", "video", "audio", "file")
REFERRAL = re.compile(r"(?:^|\s)ref:([A-Za-z0-9_-]{1,64})(?=\s|$)")
# A reply token works once, for about a minute after the event; after that, push.
REPLY_TOKEN_SECONDS = 50
MESSAGES_PER_REQUEST = 5
LABEL_LIMIT = 20
# A Khmer subscript consonant hangs under the letter before it; Thai leading vowels are written
# before the consonant they belong to: a label cut after either shows half a syllable.
KHMER_COENG = "\u17d2"
THAI_LEADING_VOWELS = "เแโใไ"
# Thai SARA AM is a letter by category but a spacing mark of the consonant before it.
SPACING_MARKS = "\u0e33"
TEXT_LIMIT = 5000


def to_inbound(event: Any) -> Inbound | None:
    """The message an event carries; None for events that are not a person writing, pressing a
    button or adding the account (unfollow, joins, unknown types)."""
    source = getattr(event, "source", None)
    if not isinstance(source, UserSource) or not source.user_id:
        return None
    address: dict[str, Any] = {"user_id": source.user_id}
    if getattr(event, "reply_token", None):
        address |= {"reply_token": event.reply_token, "at": time.time()}
    event_id = str(getattr(event, "webhook_event_id", "") or uuid.uuid4().hex)
    user = source.user_id
    if isinstance(event, FollowEvent):
        return Inbound(CHANNEL, user, event_id, FOLLOWED, "text", address)
    if isinstance(event, PostbackEvent):
        return Inbound(CHANNEL, user, event_id, str(event.postback.data), "text", address)
    if isinstance(event, MessageEvent):
        content = event.message
        if isinstance(content, TextMessageContent):
            text, referral = _referral(content.text)
            return Inbound(CHANNEL, user, event_id, text, "text", address, referral)
        kind = str(content.type or "other")
        return Inbound(CHANNEL, user, event_id, "", kind, address, media=_media(content, kind))
    return None


def _media(content: Any, kind: str) -> dict[str, Any]:
    """What fetching a message's content needs, or where a location is; empty for the kinds
    operators are not shown (stickers)."""
    if isinstance(content, LocationMessageContent):
        return {"latitude": content.latitude, "longitude": content.longitude}
    if kind in FILES and getattr(content, "id", None):
        return {"message_id": str(content.id), "size": int(getattr(content, "file_size", 0) or 0)}
    return {}


def _referral(text: str) -> tuple[str, str]:
    """The text without its `ref:<code>` word, and the code."""
    found = REFERRAL.search(text)
    if not found:
        return text, ""
    rest = (text[: found.start()] + " " + text[found.end() :]).strip()
    return rest or "/greet", found.group(1)


def routes(chats: ChatLimiter, channel_secret: str) -> APIRouter:
    """The webhook LINE calls; `chats` queues its messages."""
    router = APIRouter()
    parser = WebhookParser(channel_secret)

    @router.post(WEBHOOK_PATH, status_code=200)
    async def webhook(
        request: Request, x_line_signature: str | None = Header(default=None)
    ) -> JSONResponse:
        """Checks the signature on the raw body, queues each event's message, answers 200."""
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            events = parser.parse(body, x_line_signature or "")
        except InvalidSignatureError:
            return JSONResponse({"detail": "bad signature"}, status_code=400)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"detail": "not a LINE webhook"}, status_code=400)
        for event in events:
            inbound = to_inbound(event)
            if inbound is not None:
                await chats.accept(inbound)
        return JSONResponse({"ok": True})

    return router


def make_api(access_token: str, api_url: str = DEFAULT_API) -> AsyncMessagingApi:
    """The Messaging API client for the token, talking to `api_url` (a stand-in in tests)."""
    configuration = Configuration(access_token=access_token, host=api_url.rstrip("/"))
    return AsyncMessagingApi(AsyncApiClient(configuration))


def make_blob_api(access_token: str, data_url: str = DEFAULT_DATA_API) -> AsyncMessagingApiBlob:
    """The client of LINE's content API (what people send), talking to `data_url`."""
    configuration = Configuration(access_token=access_token, host=data_url.rstrip("/"))
    return AsyncMessagingApiBlob(AsyncApiClient(configuration))


class LineSender:
    """Sends replies to a LINE user: the reply token while it is fresh, push otherwise."""

    def __init__(self, api: AsyncMessagingApi, blob: AsyncMessagingApiBlob, web_base: str) -> None:
        """Uses a Messaging API client, and the content API's for what people send; LINE fetches
        the photos and sounds it shows from the web process at `web_base` (PUBLIC_URL: LINE
        takes HTTPS only)."""
        self.api = api
        self.blob = blob
        self.web_base = web_base.rstrip("/")

    async def deliver(
        self, address: dict[str, Any], replies: list[dict[str, Any]], key: str
    ) -> list[str]:
        """Sends the replies, five messages per request (LINE's limit), in order; a LINE bot
        cannot delete messages, so there are no ids to keep."""
        user_id = address.get("user_id")
        if not user_id:
            raise Undeliverable("no LINE user for this conversation")
        messages = [self._message(reply) for reply in _buttons_last(replies)]
        token = address.get("reply_token")
        fresh = token and time.time() - float(address.get("at", 0)) < REPLY_TOKEN_SECONDS
        for start in range(0, len(messages), MESSAGES_PER_REQUEST):
            batch = messages[start : start + MESSAGES_PER_REQUEST]
            try:
                if fresh and start == 0:
                    try:
                        await self.api.reply_message(
                            ReplyMessageRequest(reply_token=str(token), messages=batch)
                        )
                        continue
                    except ApiException as error:
                        if error.status != 400:
                            raise
                        # The token was used or expired: push instead.
                # The retry key makes LINE drop a push it has already taken.
                retry_key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}:{start}"))
                await self.api.push_message(
                    PushMessageRequest(to=user_id, messages=batch), x_line_retry_key=retry_key
                )
            except ApiException as error:
                if error.status == 429:
                    raise RetryLater(1.0) from None
                if error.status in (401, 403):
                    raise Undeliverable(f"LINE refused: {error.status}") from None
                raise
        return []

    def _message(self, reply: dict[str, Any]) -> TextMessage | AudioMessage | ImageMessage:
        """A LINE text message; an audio message for a text read aloud or an operator's
        recording (M4A, its length in milliseconds, as LINE requires); an image message for an
        operator's photo (with its small preview). Buttons become quick replies that post back."""
        quick = _quick_reply(reply.get("buttons") or [])
        if "line" in reply:
            shown = reply["line"]
            url = f"{self.web_base}{shown['path']}"
            if shown["type"] == "image":
                preview = f"{url}?preview=1"
                return ImageMessage(
                    original_content_url=url, preview_image_url=preview, quick_reply=quick
                )
            duration = max(1, int(shown["ms"]))
            return AudioMessage(original_content_url=url, duration=duration, quick_reply=quick)
        if "listen" in reply:
            heard = reply["listen"]
            return AudioMessage(
                original_content_url=f"{self.web_base}{heard['path']}",
                duration=max(1, round(float(heard["seconds"]) * 1000)),
                quick_reply=quick,
            )
        return TextMessage(text=str(reply["text"])[:TEXT_LIMIT], quick_reply=quick)

    async def fetch(self, media: dict[str, Any]) -> bytes:
        """Downloads the content of a photo, recording or file the person sent; Refused when LINE
        says it is larger than any kind may be."""
        if int(media.get("size") or 0) > MOST_BYTES:
            raise Refused("size")
        return bytes(await self.blob.get_message_content(str(media["message_id"])))

    async def erase(self, address: dict[str, Any], message_ids: list[str]) -> None:
        """Nothing: LINE does not let a bot delete messages (the person is told how to)."""

    async def close(self) -> None:
        """Closes the clients' connections."""
        await self.api.api_client.close()
        await self.blob.api_client.close()


def _buttons_last(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """LINE shows quick replies only under the last message received: the buttons of a turn
    followed by a notice go under the notice."""
    texts = [r for r in replies if r.get("text") or r.get("listen") or r.get("line")]
    with_buttons = [reply for reply in texts if reply.get("buttons")]
    if not with_buttons or texts[-1].get("buttons"):
        return texts
    buttons = with_buttons[-1]["buttons"]
    return [{**r, "buttons": []} if r is with_buttons[-1] else r for r in texts[:-1]] + [
        {**texts[-1], "buttons": buttons}
    ]


def label(title: str) -> str:
    """A quick reply label within LINE's 20 characters. The content lint keeps labels that short;
    when one is not, it is cut before the letter that would be split, never inside it."""
    if len(title) <= LABEL_LIMIT:
        return title
    end = LABEL_LIMIT
    while end > 0 and (
        unicodedata.category(title[end]).startswith("M")
        or title[end] in SPACING_MARKS
        or title[end - 1] in KHMER_COENG + THAI_LEADING_VOWELS
    ):
        end -= 1
    return title[:end].rstrip()


def _quick_reply(buttons: list[dict[str, Any]]) -> QuickReply | None:
    """Buttons as quick replies (13 at most) that post back their payload."""
    if not buttons:
        return None
    return QuickReply(
        items=[
            QuickReplyItem(
                action=PostbackAction(
                    label=label(str(b["title"])),
                    data=str(b.get("payload") or b["title"]),
                    display_text=str(b["title"]),
                )
            )
            for b in buttons[:13]
        ]
    )
