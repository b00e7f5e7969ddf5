"""Many open web chat pages at once: each holds an event stream, none holds a Redis connection
while it waits, and the web process keeps answering (webhooks, health, the console)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from bot.app import REDIS_CONNECTIONS
from tests.gateway.conftest import Stack
from tests.gateway.test_console import login, make_user
from tests.waiting import until_async

pytestmark = pytest.mark.servers

OPEN_PAGES = 300  # the old design failed at about 100; the pool has REDIS_CONNECTIONS


class OpenPage:
    """A page with its event stream open: what arrives is kept."""

    def __init__(self) -> None:
        self.client = uuid.uuid4().hex
        self.replies: list[dict[str, object]] = []
        self.opened = asyncio.Event()

    async def listen(self, http: httpx.AsyncClient) -> None:
        ticket = await http.post("/chat/tickets", json={"client": self.client})
        params = {"ticket": ticket.json()["ticket"], "since": "0-0"}
        async with http.stream("GET", "/chat/events", params=params, timeout=None) as response:
            assert response.status_code == 200
            self.opened.set()
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    self.replies.append(json.loads(line[6:]))


async def many_pages(stack: Stack) -> None:
    limits = httpx.Limits(max_connections=OPEN_PAGES + 50, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=stack.url, limits=limits, timeout=30) as http:
        pages = [OpenPage() for _ in range(OPEN_PAGES)]
        tasks = [asyncio.create_task(page.listen(http)) for page in pages]
        await asyncio.wait_for(asyncio.gather(*(p.opened.wait() for p in pages)), 60)
        assert OPEN_PAGES > 2 * REDIS_CONNECTIONS

        talking = pages[:: OPEN_PAGES // 20]
        for page in talking:
            body = {"client": page.client, "text": "xin chào"}
            assert (await http.post("/chat/messages", json=body)).status_code == 202
        health = await http.get("/health")
        assert health.status_code == 200, "the web process still answers"
        await until_async(
            lambda: all(page.replies for page in talking), 60, "a reply on every talking page"
        )
        assert all(not page.replies for page in pages if page not in talking)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_hundreds_of_open_pages_each_get_their_replies(stack: Stack) -> None:
    operator = login(stack, make_user(stack))
    asyncio.run(many_pages(stack))
    assert operator.get("/console").status_code == 200


def test_a_page_resumes_after_the_web_process_lost_redis(stack: Stack) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
            page = OpenPage()
            task = asyncio.create_task(page.listen(http))
            await asyncio.wait_for(page.opened.wait(), 30)
            stack.server.restart()  # the subscriber reconnects and wakes every page
            body = {"client": page.client, "text": "xin chào"}
            assert (await http.post("/chat/messages", json=body)).status_code == 202
            await until_async(lambda: page.replies, 60, "a reply after Redis came back")
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
