"""The input channel the gateway's router uses: Rasa's REST channel, made safe to repeat.

Each message carries the router's `message_id` (the inbound stream entry). The replies of the
conversation's latest message are kept in Redis with that id, encrypted with MESSAGE_KEY, for a
quarter of an hour (a crashed worker's entries are taken over after seconds), so when the router
crashed after Rasa answered and sends the message again, Rasa does not see it twice: the kept
replies come back instead. The router sends a conversation's messages one after the other, so only
the latest can come again; one key per conversation is what "forget me" deletes (bot/store.py). A
message older than the one kept (a worker that took over late) is answered 409: it was handled.
A failure is a 500 (the REST channel answers 200 with whatever was collected), so the router
retries; a tracker that cannot be read or saved is one too (see without_fallback).

The message is parsed here, once, and the parse handed to Rasa with it; the replies end with a
custom payload `{"understood": {...}}` (hotline/understood.py) that the router keeps with the
message. `/parse` understands a message without the dialogue: the router uses it while a person
waits for an operator or talks with one. A long message is also read piece by piece, and danger
in any piece makes the whole message `in_danger`.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hotline.redis_keys import RASA_REPLIES
from hotline.redis_sentinels import sentinels_of
from hotline.sealer import Sealer
from hotline.understood import DANGER, pieces, summary
from rasa_plugins.sentinel import async_primary

log = logging.getLogger(__name__)

KEEP_SECONDS = 900
UNDERSTOOD = "understood"


class RouterInput(InputChannel):
    """POST /webhooks/router/webhook {sender, message, message_id, metadata} -> the replies."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in credentials.yml and in the webhook's path."""
        return "router"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RouterInput:
        """Redis host, port, user and password, the key replies are kept encrypted with and for how
        long, from credentials.yml."""
        credentials = credentials or {}
        message_key = str(credentials.get("message_key") or "").strip()
        if not message_key:
            raise ValueError(
                "the router channel needs message_key (MESSAGE_KEY in the environment; `make run` "
                "makes one in var/secrets.env)"
            )
        username = str(credentials.get("redis_username") or "") or None
        password = str(credentials.get("redis_password") or "") or None
        sentinels = sentinels_of(credentials.get("redis_sentinels"))
        if sentinels:
            master = str(credentials.get("redis_master_name") or "")
            redis = async_primary(sentinels, master, username, password)
        else:
            redis = aioredis.Redis(
                host=str(credentials.get("redis_host") or "127.0.0.1"),
                port=int(credentials.get("redis_port") or 6379),
                username=username,
                password=password,
                decode_responses=True,
            )
        return cls(
            redis,
            keep_seconds=int(credentials.get("keep_seconds") or KEEP_SECONDS),
            sealer=Sealer(message_key.encode()),
        )

    def __init__(self, redis: aioredis.Redis, keep_seconds: int, sealer: Sealer) -> None:
        """Keeps replies in `redis` (it connects on first use)."""
        self.redis = redis
        self.keep_seconds = keep_seconds
        self.sealer = sealer

    def blueprint(self, on_new_message: Any) -> Blueprint:
        """The webhook."""
        webhook = Blueprint("router_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            sender, message_id = body.get("sender"), body.get("message_id")
            if not isinstance(sender, str) or not isinstance(message_id, str):
                return response.json({"error": "sender and message_id are required"}, status=400)
            key = f"{RASA_REPLIES}{sender}"
            kept = await self.redis.get(key)
            if kept is not None:
                try:
                    latest = self.sealer.open(kept)
                    if latest.get("message_id") == message_id:
                        return response.json(latest["replies"])
                    if _older(message_id, str(latest.get("message_id"))):
                        body = {"error": "a later message of this conversation was answered"}
                        return response.json(body, status=409)
                except (ValueError, AttributeError, KeyError):
                    log.warning("router channel: kept replies of %s unreadable", message_id)
            collector = CollectingOutputChannel()
            text = str(body.get("message") or "")
            without_fallback(request.app.ctx.agent)
            try:
                parse = await understand(request.app.ctx.agent, text)
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        message_id=message_id,
                        metadata=body.get("metadata") or {},
                        parse_data=parse,
                    )
                )
            except Exception:
                # The message text is not logged: it may identify the person.
                log.exception("router channel: handling message %s failed", message_id)
                return response.json({"error": "the message could not be handled"}, status=500)
            replies = [*collector.messages, {"custom": {UNDERSTOOD: summary(parse)}}]
            latest = {"message_id": message_id, "replies": replies}
            await self.redis.set(key, self.sealer.seal(latest), ex=self.keep_seconds)
            return response.json(replies)

        @webhook.route("/parse", methods=["POST"])
        async def parse(request: Request) -> HTTPResponse:
            """{message} -> what it means (hotline/understood.py); no dialogue, nothing kept."""
            text = (request.json or {}).get("message")
            if not isinstance(text, str):
                return response.json({"error": "message is required"}, status=400)
            try:
                parsed = await understand(request.app.ctx.agent, text)
            except Exception:
                log.exception("router channel: parsing a message failed")
                return response.json({"error": "the message could not be parsed"}, status=500)
            return response.json(summary(parsed))

        return webhook


def without_fallback(agent: Agent) -> None:
    """Takes off Rasa's FailSafeTrackerStore: when Redis fails (a failover, a blip) it hands out a
    blank tracker and keeps the save in memory, so the person would be answered as a stranger and
    the stored conversation overwritten. Without it the error is a 500 and the router tries the
    message again once Redis answers."""
    for holder in (agent, agent.processor):
        store = getattr(holder, "tracker_store", None)
        if isinstance(store, FailSafeTrackerStore):
            holder.tracker_store = store._tracker_store


async def understand(agent: Agent, text: str) -> dict[str, Any]:
    """Rasa's parse of the message; `in_danger` when any piece of a long message is."""
    assert agent.processor is not None, "the model is loaded before the channel answers"
    parse: dict[str, Any] = await agent.processor.parse_message(UserMessage(text))
    if (parse.get("intent") or {}).get("name") == DANGER:
        return parse
    for piece in pieces(text):
        found = await agent.processor.parse_message(UserMessage(piece))
        if (found.get("intent") or {}).get("name") == DANGER:
            classifier = parse.get("intent_ranking") or []
            promoted = {"name": DANGER, "confidence": 1.0}
            reason = {"reason": "in a long message", "classifier": classifier}
            return {
                **parse,
                "intent": promoted,
                "intent_ranking": [promoted],
                "danger_guard": reason,
            }
    return parse


def _older(message_id: str, than: str) -> bool:
    """Whether one stream entry id ("<ms>-<n>") comes before another; False for other ids."""
    try:
        mine, theirs = (tuple(int(part) for part in i.split("-")) for i in (message_id, than))
    except ValueError:
        return False
    return mine < theirs
