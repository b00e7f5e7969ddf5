"""The input channel the gateway's router uses: Rasa's REST channel, made safe to repeat.

Each message carries the router's `message_id` (the inbound stream entry). The replies are kept in
Redis under that id for a day, so when the router crashed after Rasa answered and sends the message
again, Rasa does not see it twice: the kept replies come back instead. A failure is a 500 (the REST
channel answers 200 with whatever was collected), so the router retries.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as aioredis
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

KEY_PREFIX = "rasa:replies:"


class RouterInput(InputChannel):
    """POST /webhooks/router/webhook {sender, message, message_id, metadata} -> the replies."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in credentials.yml and in the webhook's path."""
        return "router"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RouterInput:
        """Redis host, port and how long replies are kept, from credentials.yml."""
        credentials = credentials or {}
        return cls(
            host=str(credentials.get("redis_host") or "127.0.0.1"),
            port=int(credentials.get("redis_port") or 6379),
            keep_seconds=int(credentials.get("keep_seconds") or 86400),
        )

    def __init__(self, host: str, port: int, keep_seconds: int) -> None:
        """Connects lazily to the Redis that keeps the replies."""
        self.redis = aioredis.Redis(host=host, port=port, decode_responses=True)
        self.keep_seconds = keep_seconds

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
            # By conversation, so that "forget me" can find and delete them (bot/store.py).
            key = f"{KEY_PREFIX}{sender}:{message_id}"
            kept = await self.redis.get(key)
            if kept is not None:
                return response.json(json.loads(kept))
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        str(body.get("message") or ""),
                        collector,
                        sender,
                        input_channel=self.name(),
                        message_id=message_id,
                        metadata=body.get("metadata") or {},
                    )
                )
            except Exception:
                # The message text is not logged: it may identify the person.
                log.exception("router channel: handling message %s failed", message_id)
                return response.json({"error": "the message could not be handled"}, status=500)
            await self.redis.set(key, json.dumps(collector.messages), ex=self.keep_seconds)
            return response.json(collector.messages)

        return webhook
