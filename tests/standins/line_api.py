"""A stand-in for LINE's Messaging API on 127.0.0.1, for line-bot-sdk to talk to in tests, and the
webhook calls LINE would make (signed with the channel secret as LINE signs them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.standins.server import StandInServer

SECRET = "line-test-channel-secret"
TOKEN = "line-test-access-token"


def sign(body: bytes, secret: str = SECRET) -> str:
    """X-Line-Signature: base64 of HMAC-SHA256 of the raw body with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class LineStandIn(StandInServer):
    """The fake Messaging API, running in a thread; `url` goes into LINE_API_URL."""

    def __init__(self) -> None:
        # (endpoint, body, answered 200?, when)
        self.calls: list[tuple[str, dict[str, Any], bool, float]] = []
        self.too_many = 0
        self._used_tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # The content of what people "sent" (photos, recordings, files), by message id.
        self.contents: dict[str, bytes] = {}
        super().__init__()

    def sent(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Messages that reached the user, in order, each with how it came (reply or push)."""
        found: list[tuple[str, dict[str, Any]]] = []
        with self._lock:
            for endpoint, body, ok, _ in self.calls:
                if ok and body.get("_user") == user_id:
                    found.extend((endpoint, message) for message in body["messages"])
        return found

    def expire(self, reply_token: str) -> None:
        """Makes LINE refuse this reply token, as it does after a minute or one use."""
        with self._lock:
            self._used_tokens.add(reply_token)

    def event(self, user_id: str, kind: str = "message", **fields: Any) -> dict[str, Any]:
        """A webhook event from a user, as LINE sends it."""
        number = next(self._ids)
        event = {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": f"01HTEST{number:019d}",
            "deliveryContext": {"isRedelivery": False},
            "replyToken": f"reply-{user_id}-{number}",
        }
        return {**event, **fields}

    def text(self, user_id: str, text: str) -> dict[str, Any]:
        """A text message event."""
        number = next(self._ids)
        message = {"id": str(number), "type": "text", "quoteToken": "q", "text": text}
        return self.event(user_id, "message", message=message)

    def content(self, user_id: str, kind: str, data: bytes) -> dict[str, Any]:
        """A photo, recording or file message event (kind: image, audio, video, file); its content
        is served as LINE's content API serves it."""
        number = str(next(self._ids))
        with self._lock:
            self.contents[number] = data
        message: dict[str, Any] = {"id": number, "type": kind, "quoteToken": "q"}
        message |= {"contentProvider": {"type": "line"}} if kind != "file" else {}
        if kind == "file":
            message |= {"fileName": "document.pdf", "fileSize": len(data)}
        if kind in ("audio", "video"):
            message["duration"] = 3000
        return self.event(user_id, "message", message=message)

    def location(self, user_id: str, latitude: float, longitude: float) -> dict[str, Any]:
        """A shared location message event."""
        number = str(next(self._ids))
        where = {"latitude": latitude, "longitude": longitude, "address": "", "title": ""}
        return self.event(user_id, "message", message={"id": number, "type": "location", **where})

    def follow(self, user_id: str) -> dict[str, Any]:
        """The event of a person adding the account as a friend."""
        return self.event(user_id, "follow", follow={"isUnblocked": False})

    def postback(self, user_id: str, data: str) -> dict[str, Any]:
        """A pressed quick reply (postback) event."""
        return self.event(user_id, "postback", postback={"data": data})

    def app(self) -> FastAPI:
        """The stand-in's endpoints."""
        app = FastAPI()

        @app.post("/v2/bot/message/{kind}")
        async def message(kind: str, request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"message": "Authentication failed"}, 401)
            body = json.loads(await request.body())
            with self._lock:
                if kind == "reply":
                    token = body["replyToken"]
                    body["_user"] = token.split("-")[1]
                    if token in self._used_tokens:
                        self.calls.append((kind, body, False, time.monotonic()))
                        return JSONResponse({"message": "Invalid reply token"}, 400)
                    self._used_tokens.add(token)
                else:
                    body["_user"] = body["to"]
                if self.too_many > 0:
                    self.too_many -= 1
                    self.calls.append((kind, body, False, time.monotonic()))
                    return JSONResponse({"message": "The API rate limit has been exceeded."}, 429)
                self.calls.append((kind, body, True, time.monotonic()))
            return JSONResponse({"sentMessages": [{"id": "1", "quoteToken": "q"}]})

        @app.get("/v2/bot/message/{message_id}/content")
        async def content(message_id: str, request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"message": "Authentication failed"}, 401)
            with self._lock:
                data = self.contents.get(message_id)
            if data is None:
                return JSONResponse({"message": "Not found"}, 404)
            return Response(data, media_type="application/octet-stream")

        return app
