"""Optional machine translation for operators who do not read the person's language: a client of a
LibreTranslate-compatible server (self-hosted LibreTranslate, or an NLLB server with that API),
named by TRANSLATE_URL. Off unless that setting is set; nothing is sent anywhere otherwise.

Translations are kept in this process's memory only (a bounded cache, so that live refreshes of a
page do not translate the same message again), never in Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict

import httpx

log = logging.getLogger(__name__)

CACHED = 2000
# At most this many person's messages of a conversation are translated for one page.
LAST_MESSAGES = 50
TIMEOUT_SECONDS = 5.0
AT_ONCE = 4


class Translator:
    """POST {url}/translate {q, source, target, format, api_key} -> {translatedText}."""

    def __init__(self, url: str, api_key: str = "", cached: int = CACHED) -> None:
        """`url` is the server's base URL, e.g. http://127.0.0.1:5000."""
        self.url = url.rstrip("/") + "/translate"
        self.api_key = api_key
        self.cached = cached
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._at_once = asyncio.Semaphore(AT_ONCE)
        self._client: httpx.AsyncClient | None = None

    async def translate(self, text: str, source: str, target: str) -> str | None:
        """The text in the target language; None when the server cannot translate it now."""
        if not text.strip() or source == target:
            return text
        key = hashlib.sha256(f"{source}\0{target}\0{text}".encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        body = {"q": text, "source": source, "target": target, "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        try:
            async with self._at_once:
                response = await self._client.post(self.url, json=body)
            response.raise_for_status()
            translated = response.json().get("translatedText")
        except (httpx.HTTPError, ValueError) as error:
            # The text is not logged: it may identify the person.
            log.warning("machine translation failed: %s", type(error).__name__)
            return None
        if not isinstance(translated, str):
            return None
        self._cache[key] = translated
        if len(self._cache) > self.cached:
            self._cache.popitem(last=False)
        return translated

    async def close(self) -> None:
        """Closes the connection pool."""
        if self._client is not None:
            await self._client.aclose()
