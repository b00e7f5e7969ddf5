"""A stand-in for Telegram's Bot API on 127.0.0.1, for python-telegram-bot to talk to in tests.

It answers the methods the gateway uses as Telegram documents them, records every call, hands out
updates to getUpdates (long polling), and can be told to answer 429 with retry_after.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from tests.standins.server import StandInServer

TOKEN = "123456:TEST-token"
# The Bot API's methods that send a file, and the field that carries it.
MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendDocument": "document",
}
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Hotline", "username": "hotline_test_bot"}


class TelegramStandIn(StandInServer):
    """The fake Bot API server, running in a thread; `url` goes into TELEGRAM_API_URL."""

    def __init__(self) -> None:
        # (method, parameters, answered 200?, when)
        self.calls: list[tuple[str, dict[str, Any], bool, float]] = []
        self.updates: list[dict[str, Any]] = []
        self.too_many: dict[str, int] = {}
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._lock = threading.Lock()
        # Called with the chat id of every accepted sendMessage, in the server's event loop.
        self.on_sent: list[Callable[[int], None]] = []
        # Ids of the messages the bot sent, by chat.
        self.bot_messages: dict[int, list[int]] = {}
        # What people "sent" (photos, recordings, files), by file_id, for getFile.
        self.files: dict[str, bytes] = {}
        super().__init__()

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        """The sendMessage calls to one chat, in order."""
        with self._lock:
            return [
                p
                for m, p, ok, _ in self.calls
                if m == "sendMessage" and ok and int(p["chat_id"]) == chat_id
            ]

    def media_sent(self, chat_id: int) -> list[tuple[str, bytes]]:
        """The photos, voice messages, recordings, videos and files sent to one chat: (method,
        the file's bytes), in order."""
        with self._lock:
            return [
                (m, p[MEDIA_METHODS[m]])
                for m, p, ok, _ in self.calls
                if m in MEDIA_METHODS and ok and int(p["chat_id"]) == chat_id
            ]

    def called(self, method: str) -> list[dict[str, Any]]:
        """Every call of one method, in order."""
        with self._lock:
            return [p for m, p, _, _ in self.calls if m == method]

    def attempts(self, chat_id: int) -> list[tuple[bool, float]]:
        """Every sendMessage to one chat: (accepted?, when), refused ones included."""
        with self._lock:
            return [
                (ok, at)
                for m, p, ok, at in self.calls
                if m == "sendMessage" and int(p["chat_id"]) == chat_id
            ]

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates to hand out (long polling)."""
        with self._lock:
            self.updates.append(update)

    def text_update(self, chat_id: int, text: str) -> dict[str, Any]:
        """An update carrying a text message from a private chat, as Telegram sends it."""
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, text)}

    def button_update(self, chat_id: int, data: str) -> dict[str, Any]:
        """An update carrying a pressed inline button (callback query)."""
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"cq{next(self._message_ids)}",
                "from": _user(chat_id),
                "chat_instance": "1",
                "data": data,
                "message": self._message(chat_id, "…", from_bot=True),
            },
        }

    def sticker_update(self, chat_id: int) -> dict[str, Any]:
        """An update carrying a sticker."""
        message = self._message(chat_id, None)
        message["sticker"] = {
            "file_id": "s1",
            "file_unique_id": "s1u",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def photo_update(self, chat_id: int, data: bytes, caption: str = "") -> dict[str, Any]:
        """An update carrying a photo (Telegram sends sizes, the largest last), and its caption."""
        message = self._message(chat_id, None)
        small = self._file(b"\xff\xd8\xff small preview")
        large = self._file(data)
        message["photo"] = [
            {**small, "width": 90, "height": 60},
            {**large, "width": 1280, "height": 960},
        ]
        if caption:
            message["caption"] = caption
        return {"update_id": next(self._update_ids), "message": message}

    def voice_update(self, chat_id: int, data: bytes) -> dict[str, Any]:
        """An update carrying a voice message."""
        message = self._message(chat_id, None)
        message["voice"] = {**self._file(data), "duration": 3, "mime_type": "audio/ogg"}
        return {"update_id": next(self._update_ids), "message": message}

    def document_update(self, chat_id: int, data: bytes, name: str) -> dict[str, Any]:
        """An update carrying a file, with the name and type the sender's app gave it."""
        message = self._message(chat_id, None)
        message["document"] = {
            **self._file(data),
            "file_name": name,
            "mime_type": "application/pdf",
        }
        return {"update_id": next(self._update_ids), "message": message}

    def location_update(self, chat_id: int, latitude: float, longitude: float) -> dict[str, Any]:
        """An update carrying a shared location."""
        message = self._message(chat_id, None)
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return {"update_id": next(self._update_ids), "message": message}

    def _file(self, data: bytes) -> dict[str, Any]:
        file_id = f"f{next(self._message_ids)}"
        with self._lock:
            self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"{file_id}u", "file_size": len(data)}

    def _message(self, chat_id: int, text: str | None, from_bot: bool = False) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "P"},
            "from": BOT_USER if from_bot else _user(chat_id),
        }
        if text is not None:
            message["text"] = text
        return message

    def app(self) -> FastAPI:
        """The stand-in's endpoints."""
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def method(token: str, method: str, request: Request) -> JSONResponse:
            if token != TOKEN:
                return JSONResponse(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
                )
            params = await _params(request)
            with self._lock:
                refuse = self.too_many.get(method, 0) > 0
                self.calls.append((method, params, not refuse, time.monotonic()))
                if refuse:
                    self.too_many[method] -= 1
                    return JSONResponse(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1},
                        },
                        429,
                    )
            if method == "getUpdates":
                return JSONResponse({"ok": True, "result": await self._updates(params)})
            if method == "getFile":
                with self._lock:
                    data = self.files.get(str(params.get("file_id")))
                if data is None:
                    description = "Bad Request: invalid file_id"
                    return JSONResponse(
                        {"ok": False, "error_code": 400, "description": description}, 400
                    )
                file_id = str(params["file_id"])
                found = {
                    "file_id": file_id,
                    "file_unique_id": f"{file_id}u",
                    "file_size": len(data),
                }
                return JSONResponse(
                    {"ok": True, "result": {**found, "file_path": f"files/{file_id}"}}
                )
            result = self._result(method, params)
            if method == "sendMessage":
                for listener in self.on_sent:
                    listener(int(params["chat_id"]))
            return JSONResponse({"ok": True, "result": result})

        @app.get("/file/bot{token}/files/{file_id}")
        async def download(token: str, file_id: str) -> Response:
            with self._lock:
                data = self.files.get(file_id)
            if token != TOKEN or data is None:
                return Response(status_code=404)
            return Response(data, media_type="application/octet-stream")

        return app

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                found = [u for u in self.updates if u["update_id"] >= offset]
                self.updates = found
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(0.05)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False}
        if method == "sendMessage" or method in MEDIA_METHODS:
            chat_id = int(params["chat_id"])
            sent = self._message(chat_id, str(params.get("text", "")), from_bot=True)
            self.bot_messages.setdefault(chat_id, []).append(sent["message_id"])
            return sent
        return True


async def _params(request: Request) -> dict[str, Any]:
    """python-telegram-bot posts form fields whose values are JSON where they are not strings, and
    files as multipart (a file's value is its bytes here)."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body: dict[str, Any] = await request.json()
        return body
    if kind.startswith("multipart/form-data"):
        fields: dict[str, Any] = {}
        for key, value in (await request.form()).multi_items():
            if isinstance(value, UploadFile):
                fields[key] = await value.read()
            else:
                try:
                    fields[key] = json.loads(value)
                except ValueError:
                    fields[key] = value
        return fields
    params: dict[str, Any] = {}
    for key, text in parse_qsl((await request.body()).decode()):
        try:
            params[key] = json.loads(text)
        except ValueError:
            params[key] = text
    return params


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "P", "language_code": "th"}
