"""Telegram through python-telegram-bot: a webhook (its secret token checked) when PUBLIC_URL is
set, long polling otherwise; buttons as inline keyboards; /start <code>, /lang, /help, /forget.

Updates become `Inbound` messages on the inbound stream and nothing else happens on receipt; the
senders (bot/worker.py) send the replies with `TelegramSender`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.backoff import TELEGRAM_POLLING, Backoff
from bot.channel_names import TELEGRAM
from bot.chat_limits import ChatLimiter
from bot.media import MOST_BYTES, Refused
from bot.senders import RetryLater, Undeliverable
from bot.store import TELEGRAM_OFFSET, TELEGRAM_POLLER, Backlogged, Inbound, Store
from bot.telegram_request import AiohttpRequest
from hotline.content import gateway_texts
from hotline.language import LANGUAGES

log = logging.getLogger(__name__)

CHANNEL = TELEGRAM
WEBHOOK_PATH = "/telegram/webhook"
DEFAULT_API = "https://api.telegram.org"
# The commands shown in Telegram's menu (the router turns them into what the assistant reads).
MENU_COMMANDS = ("lang", "help", "forget", "exit")
REFERRAL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NON_TEXT = (
    "sticker",
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
)
# The kinds that carry a file the operators can be shown (besides photos).
FILES = ("voice", "audio", "video", "video_note", "animation", "document")
# The name a file an operator sends gets on Telegram (the person's app shows it).
FILE_ENDINGS = {"application/pdf": ".pdf", "image/gif": ".gif"}
CALLBACK_DATA_LIMIT = 64
MESSAGE_LIMIT = 4096
# Messages deleted per deleteMessages request (Bot API limit).
DELETE_LIMIT = 100
POLL_SECONDS = 20
# How long polling waits while the inbound backlog is full.
BUSY = 10


class TelegramSetupError(RuntimeError):
    """The token was refused or Telegram could not be reached; the message says which."""


def make_bot(token: str, api_url: str = DEFAULT_API) -> Bot:
    """A python-telegram-bot Bot for the token, talking to `api_url` (a stand-in in tests)."""
    api = api_url.rstrip("/")
    return Bot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(),
    )


async def start_bot(bot: Bot) -> None:
    """Checks the token with getMe; TelegramSetupError in one line when it fails."""
    try:
        await bot.initialize()
    except InvalidToken:
        raise TelegramSetupError(
            "Telegram refused TELEGRAM_TOKEN (check it with @BotFather)"
        ) from None
    except TelegramError as error:
        raise TelegramSetupError(f"Telegram could not be reached: {error}") from None


def webhook_secret(id_secret: bytes) -> str:
    """The secret token Telegram sends back with every update (derived, so nothing to configure)."""
    return hmac.new(id_secret, b"telegram-webhook", hashlib.sha256).hexdigest()[:48]


def to_inbound(update: Update) -> tuple[Inbound, str | None] | None:
    """The message an update carries, and the callback query to answer; None for updates that are
    not a person writing or pressing a button (edits, channel posts, membership changes)."""
    event = f"update-{update.update_id}"
    query = update.callback_query
    if query is not None:
        chat_id = query.message.chat.id if query.message else query.from_user.id
        text = str(query.data or "")
        return Inbound(CHANNEL, str(chat_id), event, text, "text", {"chat_id": chat_id}), query.id
    message = update.message
    if message is None:
        return None
    chat_id = message.chat.id
    address = {"chat_id": chat_id}
    message_id = str(message.message_id)
    if message.text is None:
        kind = _kind(message)
        caption = message.caption or ""
        media = _media(message, kind)
        found = Inbound(CHANNEL, str(chat_id), event, caption, kind, address, "", message_id, media)
        return found, None
    referral = _referral(message.text)
    return Inbound(
        CHANNEL, str(chat_id), event, message.text, "text", address, referral, message_id
    ), None


def _kind(message: Message) -> str:
    return next((kind for kind in NON_TEXT if getattr(message, kind, None)), "other")


def _media(message: Message, kind: str) -> dict[str, Any]:
    """What fetching the message's photo, recording or file needs (the largest size of a photo),
    or where a location is; empty for the kinds operators are not shown (stickers, polls)."""
    if kind in ("location", "venue"):
        place = message.location or (message.venue.location if message.venue else None)
        return {"latitude": place.latitude, "longitude": place.longitude} if place else {}
    if kind == "photo":
        sent: Any = message.photo[-1]
    elif kind in FILES:
        sent = getattr(message, kind)
    else:
        return {}
    return {"file_id": sent.file_id, "size": sent.file_size or 0}


def _referral(text: str) -> str:
    """The referral code of `/start <code>` (what a t.me/<bot>?start=<code> link sends)."""
    head, _, argument = text.partition(" ")
    if head.split("@")[0].lower() != "/start":
        return ""
    return argument.strip() if REFERRAL.match(argument.strip()) else ""


async def set_commands(bot: Bot) -> None:
    """Registers /lang, /help and /forget with their descriptions in Thai, Vietnamese and Khmer."""
    texts = gateway_texts()
    for language in (*LANGUAGES, None):
        shown = language or "th"
        commands = [BotCommand(c, texts[f"command_{c}"][shown]) for c in MENU_COMMANDS]
        await bot.set_my_commands(commands, language_code=language)


def routes(chats: ChatLimiter, bot: Bot, secret: str) -> APIRouter:
    """The webhook Telegram calls when PUBLIC_URL is set; `chats` queues its messages."""
    router = APIRouter()

    @router.post(WEBHOOK_PATH, status_code=200)
    async def webhook(
        request: Request,
        background: BackgroundTasks,
        x_telegram_bot_api_secret_token: str | None = Header(default=None),
    ) -> JSONResponse:
        """Checks the secret token, queues the update's message, answers 200."""
        given = x_telegram_bot_api_secret_token or ""
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"detail": "wrong secret token"}, status_code=403)
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return JSONResponse({"detail": "not a Telegram update"}, status_code=400)
        found = to_inbound(update)
        if found is not None:
            inbound, query_id = found
            await chats.accept(inbound)
            if query_id:
                background.add_task(_answer_query, bot, query_id)
        return JSONResponse({"ok": True})

    return router


async def _answer_query(bot: Bot, query_id: str) -> None:
    """Stops the spinner on the pressed button; a failure only leaves the spinner."""
    try:
        await bot.answer_callback_query(query_id)
    except TelegramError as error:
        log.info("answerCallbackQuery failed: %s", type(error).__name__)


async def use_webhook(bot: Bot, public_url: str, secret: str) -> None:
    """Tells Telegram where to send updates."""
    await bot.set_webhook(
        f"{public_url}{WEBHOOK_PATH}",
        secret_token=secret,
        allowed_updates=["message", "callback_query"],
    )


@dataclass
class Polling:
    """Whether long polling works, for /health: since when it has been failing (None: it works)."""

    failing_since: float | None = None

    def worked(self) -> None:
        """It reached Redis and Telegram (or another process holds the lease)."""
        self.failing_since = None

    def failed(self) -> None:
        """It could not reach Redis or Telegram."""
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    def failing_for(self) -> float:
        """How many seconds it has been failing (0 when it works)."""
        return 0.0 if self.failing_since is None else time.monotonic() - self.failing_since


async def supervised(chats: ChatLimiter, bot: Bot, holder: str, polling: Polling) -> None:
    """Long polling that starts again whatever stops it, until cancelled."""
    while True:
        try:
            await poll(chats, bot, holder, polling)
        except Exception:
            polling.failed()
            log.exception("Telegram polling stopped; starting it again in %d s", BUSY)
            await asyncio.sleep(BUSY)


async def poll(chats: ChatLimiter, bot: Bot, holder: str, polling: Polling) -> None:
    """Long polling, when there is no public URL: one process at a time polls (a Redis lease);
    `chats` queues the messages, `polling` says whether it works. An outage of Redis or Telegram
    is waited out. Runs until cancelled."""
    store = chats.store
    await bot.delete_webhook()
    backoff = Backoff(*TELEGRAM_POLLING)
    try:
        while True:
            try:
                if not await _hold_lease(store, holder):
                    polling.worked()
                    await asyncio.sleep(5)
                    continue
                offset = int(await store.redis.get(TELEGRAM_OFFSET) or 0)
                updates = await bot.get_updates(
                    offset=offset or None,
                    timeout=POLL_SECONDS,
                    allowed_updates=["message", "callback_query"],
                )
                for update in updates:
                    found = to_inbound(update)
                    if found is not None:
                        inbound, query_id = found
                        await chats.accept(inbound)
                        if query_id:
                            await _answer_query(bot, query_id)
                    await store.redis.set(TELEGRAM_OFFSET, update.update_id + 1)
                polling.worked()
                backoff.reset()
            except RetryAfter as wait:
                await asyncio.sleep(_seconds(wait.retry_after))
            except Backlogged:
                # The update stays unacknowledged (its offset not stored): asked again later.
                log.warning("Telegram polling: the inbound backlog is full; again in %d s", BUSY)
                await asyncio.sleep(BUSY)
            except (TelegramError, OSError, RedisError) as error:
                polling.failed()
                log.warning("Telegram polling: %s; trying again", type(error).__name__)
                await backoff.wait()
    finally:
        with contextlib.suppress(RedisError, OSError):
            if await store.redis.get(TELEGRAM_POLLER) == holder:
                await store.redis.delete(TELEGRAM_POLLER)


async def _hold_lease(store: Store, holder: str) -> bool:
    """Takes or renews the polling lease; False while another process holds it."""
    if await store.redis.set(TELEGRAM_POLLER, holder, nx=True, ex=POLL_SECONDS * 3):
        return True
    if await store.redis.get(TELEGRAM_POLLER) != holder:
        return False
    await store.redis.expire(TELEGRAM_POLLER, POLL_SECONDS * 3)
    return True


class TelegramSender:
    """Sends replies to a Telegram chat: texts, and buttons as an inline keyboard."""

    def __init__(self, bot: Bot) -> None:
        """Uses an initialized Bot."""
        self.bot = bot

    async def deliver(
        self, address: dict[str, Any], replies: list[dict[str, Any]], key: str
    ) -> list[str]:
        """Sends each reply in order and returns the sent messages' ids (Telegram has no way to
        drop a repeat, so `key` is unused)."""
        chat_id = address.get("chat_id")
        if chat_id is None:
            raise Undeliverable("no Telegram chat for this conversation")
        sent: list[str] = []
        try:
            for reply in replies:
                sent += await self._send(chat_id, reply)
        except RetryAfter as wait:
            raise RetryLater(_seconds(wait.retry_after)) from None
        except Forbidden as error:
            raise Undeliverable(f"Telegram refused: {error}") from None
        return sent

    async def fetch(self, media: dict[str, Any]) -> bytes:
        """Downloads a photo, recording or file the person sent (getFile); Refused when Telegram
        says it is larger than any kind may be."""
        sent = await self.bot.get_file(str(media["file_id"]))
        if (sent.file_size or media.get("size") or 0) > MOST_BYTES:
            raise Refused("size")
        return bytes(await sent.download_as_bytearray())

    async def erase(self, address: dict[str, Any], message_ids: list[str]) -> None:
        """Deletes the messages, the person's and the bot's (Telegram allows it for 48 hours in a
        private chat), a hundred per request."""
        chat_id = address.get("chat_id")
        if chat_id is None or not message_ids:
            return
        ids = sorted(int(i) for i in message_ids)
        try:
            for start in range(0, len(ids), DELETE_LIMIT):
                await self.bot.delete_messages(chat_id, ids[start : start + DELETE_LIMIT])
        except RetryAfter as wait:
            raise RetryLater(_seconds(wait.retry_after)) from None
        except (Forbidden, BadRequest) as error:
            log.warning("telegram: could not delete messages: %s", type(error).__name__)

    async def close(self) -> None:
        """Closes the Bot's connections."""
        await self.bot.shutdown()

    async def _send(self, chat_id: int, reply: dict[str, Any]) -> list[str]:
        if "data" in reply and "media" in reply:
            return [await self._send_media(chat_id, reply["media"], reply["data"])]
        text = str(reply.get("text") or "")
        buttons = reply.get("buttons") or []
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if buttons:
            keyboard = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b["title"], callback_data=_callback(b))] for b in buttons]
            )
        elif reply.get("exit_button"):
            # Stays under the input field: the quick exit is one tap away.
            keyboard = ReplyKeyboardMarkup(
                [[KeyboardButton(str(reply["exit_button"]))]],
                resize_keyboard=True,
                is_persistent=True,
            )
        if "data" in reply:  # a text read aloud (bot/voices.py), with the buttons that go with it
            duration = round(float(reply["listen"].get("seconds") or 0))
            voice = await self.bot.send_voice(
                chat_id, reply["data"], duration=duration or None, reply_markup=keyboard
            )
            return [str(voice.message_id)]
        pieces = [text[i : i + MESSAGE_LIMIT] for i in range(0, len(text), MESSAGE_LIMIT)] or ["…"]
        sent = []
        for number, piece in enumerate(pieces, 1):
            markup = keyboard if number == len(pieces) else None
            message = await self.bot.send_message(chat_id, piece, reply_markup=markup)
            sent.append(str(message.message_id))
        return sent

    async def _send_media(self, chat_id: int, media: dict[str, Any], data: bytes) -> str:
        """A photo, voice message (OGG), other recording, video or file, as Telegram shows each."""
        kind, mime = media.get("kind"), media.get("mime")
        if kind == "image" and mime != "image/gif":
            message = await self.bot.send_photo(chat_id, data)
        elif mime == "audio/ogg":
            message = await self.bot.send_voice(chat_id, data)
        elif kind == "audio":
            message = await self.bot.send_audio(chat_id, data)
        elif kind == "video":
            message = await self.bot.send_video(chat_id, data)
        else:
            name = "document" + FILE_ENDINGS.get(str(mime), "")
            message = await self.bot.send_document(chat_id, data, filename=name)
        return str(message.message_id)


def _callback(button: dict[str, str]) -> str:
    """What pressing the button sends back: the payload, or the title when the payload is too long
    for Telegram (64 bytes); the title then goes through the assistant's language understanding."""
    payload = str(button.get("payload") or button.get("title") or "")
    if len(payload.encode()) <= CALLBACK_DATA_LIMIT:
        return payload
    title = str(button.get("title", "")).encode()[:CALLBACK_DATA_LIMIT]
    return title.decode(errors="ignore")


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
