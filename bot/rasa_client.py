"""Talks to Rasa through the project's router channel (rasa_plugins/router_channel.py).

aiohttp rather than httpx: the worker makes one call per message, and httpx's client cost about
twice the CPU per call (bench/e2e.py), on a machine where the worker shares two cores with Rasa.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from typing import Any

import aiohttp

from bot.backoff import RASA, Backoff

log = logging.getLogger(__name__)

WEBHOOK = "/webhooks/router/webhook"
PARSE = "/webhooks/router/parse"


class AlreadyAnswered(RuntimeError):
    """Rasa answered a later message of the conversation: this one was handled before."""


class RasaUnavailable(RuntimeError):
    """Rasa did not answer after every retry."""


class RasaClient:
    """Sends one message of a conversation to Rasa and returns the bot's messages.

    With several Rasa servers (which share the tracker and lock stores in Redis), each conversation
    goes to one of them, and to the next when that one does not answer.
    """

    def __init__(self, urls: Sequence[str], attempts: int = 6, timeout: float = 30.0) -> None:
        """`urls` are Rasa's base URLs, e.g. http://127.0.0.1:5005."""
        self.bases = [url.rstrip("/") for url in urls]
        self.attempts = attempts
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(
        self, conv: str, text: str, message_id: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The bot's replies. The message id makes a repeated call return the first replies."""
        body = {"sender": conv, "message": text, "message_id": message_id, "metadata": metadata}
        replies: list[dict[str, Any]] = await self._post(
            conv, WEBHOOK, body, self.attempts, self.timeout
        )
        return replies

    async def parse(
        self, conv: str, text: str, attempts: int = 2, seconds: float = 5.0
    ) -> dict[str, Any]:
        """What the assistant understands of a message (hotline/understood.py), without the
        dialogue: for a person who waits for an operator or talks with one. Few attempts: the
        router has a fallback and a person may be in danger."""
        body = {"message": text}
        timeout = aiohttp.ClientTimeout(total=seconds)
        understood: dict[str, Any] = await self._post(conv, PARSE, body, attempts, timeout)
        return understood

    async def _post(
        self,
        conv: str,
        path: str,
        body: dict[str, Any],
        attempts: int,
        timeout: aiohttp.ClientTimeout,
    ) -> Any:
        """The JSON answer of the conversation's Rasa server, or of the next ones."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        first = zlib.crc32(conv.encode())
        backoff = Backoff(*RASA)
        for attempt in range(1, attempts + 1):
            url = self.bases[(first + attempt - 1) % len(self.bases)] + path
            try:
                async with self._session.post(url, json=body, timeout=timeout) as response:
                    if response.status == 409:
                        raise AlreadyAnswered(str(body.get("message_id")))
                    if response.status < 500:
                        response.raise_for_status()
                        return await response.json()
                    log.warning("%s answered %s (attempt %d)", url, response.status, attempt)
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
                log.warning("%s unreachable: %s (attempt %d)", url, type(error).__name__, attempt)
            if attempt < attempts:
                await backoff.wait()
        raise RasaUnavailable(f"no answer from Rasa after {attempts} attempts")

    async def answers(self, seconds: float) -> bool:
        """Whether at least one of the Rasa servers answers its root URL within `seconds` (a
        conversation whose server does not answer moves to the next one)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        session, timeout = self._session, aiohttp.ClientTimeout(total=seconds)

        async def up(base: str) -> bool:
            try:
                async with session.get(base + "/", timeout=timeout) as response:
                    return response.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False

        return any(await asyncio.gather(*(up(base) for base in self.bases)))

    async def close(self) -> None:
        """Closes the connection pool."""
        if self._session is not None:
            await self._session.close()
