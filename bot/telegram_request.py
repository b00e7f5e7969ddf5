"""python-telegram-bot's HTTP layer on aiohttp instead of httpx.

python-telegram-bot lets a bot bring its own `BaseRequest`. The worker sends one Telegram request
per reply; on aiohttp each costs about half the CPU of httpx (bench/e2e.py), and the worker shares
two cores with Rasa.
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram._utils.types import ODVInput  # the type BaseRequest.do_request declares
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECTIONS = 256
READ_SECONDS = 5.0
WRITE_SECONDS = 5.0
CONNECT_SECONDS = 5.0
# Pool and write waits have no separate knob in aiohttp; they count towards the total.
POOL_SECONDS = 1.0


class AiohttpRequest(BaseRequest):
    """Makes python-telegram-bot's requests to the Bot API with an aiohttp session."""

    def __init__(self, read_timeout: float = READ_SECONDS) -> None:
        """`read_timeout` is the default wait for an answer (long polling adds its own)."""
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        """The default read timeout."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Opens the session."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=CONNECTIONS)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Closes the session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request; Telegram's status and body, or TimedOut / NetworkError as PTB expects."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, CONNECT_SECONDS)
        total = (
            read
            + connect
            + _given(write_timeout, WRITE_SECONDS)
            + _given(pool_timeout, POOL_SECONDS)
        )
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _given(value: ODVInput[float], default: float) -> float:
    """A timeout the caller passed, else the default (None means no limit: a day)."""
    if isinstance(value, (int, float)):
        return float(value)
    if value is None:
        return 86_400.0
    return default


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The parameters as a form; with files, as multipart."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
