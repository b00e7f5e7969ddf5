"""The worker's Rasa client: each conversation keeps to one Rasa server, and moves to the next when
that one does not answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bot.rasa_client import WEBHOOK, RasaClient, RasaUnavailable
from tests.servers import free_port

pytestmark = pytest.mark.asyncio


class FakeRasa:
    """A server answering the router webhook with its own name, counting who it served."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.senders: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def answer(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        self.senders.append(body["sender"])
        return web.json_response([{"recipient_id": body["sender"], "text": self.name}])


@pytest_asyncio.fixture()
async def two() -> AsyncIterator[list[FakeRasa]]:
    servers = [FakeRasa("a"), FakeRasa("b")]
    runners = []
    for server in servers:
        app = web.Application()
        app.router.add_post(WEBHOOK, server.answer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", server.port).start()
        runners.append(runner)
    yield servers
    for runner in runners:
        await runner.cleanup()


async def test_conversations_spread_and_each_keeps_to_one_server(two: list[FakeRasa]) -> None:
    client = RasaClient([s.url for s in two])
    try:
        for conv in (f"conv-{n}" for n in range(20)):
            first = await client.send(conv, "hi", "1", {})
            again = await client.send(conv, "hi", "2", {})
            assert first[0]["text"] == again[0]["text"]
    finally:
        await client.close()
    assert two[0].senders and two[1].senders


async def test_a_dead_server_is_skipped(two: list[FakeRasa]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = RasaClient([dead, two[0].url])
    try:
        answers = {(await client.send(f"conv-{n}", "hi", "1", {}))[0]["text"] for n in range(6)}
    finally:
        await client.close()
    assert answers == {"a"}
    assert len(two[0].senders) == 6


async def test_no_server_at_all_is_unavailable() -> None:
    client = RasaClient([f"http://127.0.0.1:{free_port()}"], attempts=2)
    try:
        with pytest.raises(RasaUnavailable):
            await client.send("conv", "hi", "1", {})
    finally:
        await client.close()
