"""python-telegram-bot's requests on aiohttp: the errors python-telegram-bot expects when the Bot
API cannot be reached or does not answer in time (the working path is in test_telegram.py)."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import NetworkError, TimedOut

from bot.telegram_request import AiohttpRequest
from tests.servers import free_port

pytestmark = pytest.mark.asyncio


async def test_a_closed_port_is_a_network_error() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.do_request(f"http://127.0.0.1:{free_port()}/botX/getMe", "POST")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()


async def test_a_silent_server_times_out() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST")
    finally:
        await request.shutdown()
        server.close()


async def test_it_must_be_initialized() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:1/botX/getMe", "POST")
