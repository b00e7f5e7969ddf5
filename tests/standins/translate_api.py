"""A stand-in for a LibreTranslate-compatible server on 127.0.0.1 (TRANSLATE_URL), for the console's
real translation client to talk to in tests. It "translates" by labelling the text with the
language pair, so a test can tell what was asked; it records every request."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.standins.server import StandInServer

API_KEY = "translate-test-key"


def translated(text: str, source: str, target: str) -> str:
    """What the stand-in answers for a text."""
    return f"[{source}→{target}] {text}"


class TranslateStandIn(StandInServer):
    """POST /translate as LibreTranslate answers it; `url` goes into TRANSLATE_URL."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__()

    def asked(self) -> list[dict[str, Any]]:
        """Every request body received, in order."""
        with self._lock:
            return list(self.requests)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/translate")
        async def translate(request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                self.requests.append(body)
            if body.get("api_key") != API_KEY:
                return JSONResponse({"error": "Invalid API key"}, status_code=403)
            text, source, target = body.get("q"), body.get("source"), body.get("target")
            if not isinstance(text, str) or not source or not target:
                return JSONResponse({"error": "Invalid request"}, status_code=400)
            return JSONResponse({"translatedText": translated(text, source, target)})

        return app
