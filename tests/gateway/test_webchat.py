"""The web chat's edge: where the page's "leave quickly" goes and who may frame the page (the app
in-process, on a real Redis), and the one-use tickets that open a page's stream of replies, so
that its client id never goes into a URL. The chat in a browser: test_webchat_browser.py."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from bot import ngos
from bot.app import create_app
from bot.privacy import conversation_id
from bot.settings import Settings
from bot.store import web_ticket_key
from bot.webchat import DEFAULT_EXIT, TICKET_PATTERN, TICKET_SECONDS
from tests.gateway.conftest import Stack
from tests.servers import MESSAGE_KEY
from tests.waiting import until_async

ID_SECRET = "x" * 32
PAGES_ALLOWED = 3
MEKONG = "https://mekong.example"


class Edge(NamedTuple):
    """A client of the app, and the app's Redis."""

    http: httpx.AsyncClient
    redis: Any
    app: FastAPI


@pytest_asyncio.fixture
async def edge(redis_port: int) -> AsyncIterator[Edge]:
    """The gateway's app on a flushed Redis, with two NGOs and their sites registered."""
    env = {
        "DEPLOYMENT": "local",
        "ID_SECRET": ID_SECRET,
        "MESSAGE_KEY": MESSAGE_KEY,
        "REDIS_PORT": str(redis_port),
        "LIMIT_WEB_PAGES": f"{PAGES_ALLOWED}/60",
    }
    app = create_app(Settings.from_env(env))
    redis = app.state.store.redis
    await redis.flushall()
    sites = f"{MEKONG} {MEKONG}:8443"
    await ngos.save(redis, ngos.parse("mekong", "Mekong Aid", ["th"], "", "", sites))
    await ngos.save(redis, ngos.parse("other", "Other", ["vi"], "", "", "https://other.example"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Edge(client, redis, app)
    await redis.aclose()


async def exit_of(http: httpx.AsyncClient, query: dict[str, str], framed: bool = True) -> str:
    """Where the page served for this query sends "leave quickly"; `framed`: the browser loads it
    in a frame (and says so)."""
    headers = {"Sec-Fetch-Dest": "iframe" if framed else "document"}
    page = await http.get("/", params=query, headers=headers)
    assert page.status_code == 200
    found = re.search(r'<body data-exit="([^"]*)">', page.text)
    assert found, "the page carries its exit"
    return html.unescape(found.group(1))


def framers(response: httpx.Response) -> list[str]:
    """The frame-ancestors of an answer's CSP."""
    policy = response.headers["content-security-policy"]
    [directive] = [d.strip() for d in policy.split(";") if "frame-ancestors" in d]
    return directive.split()[1:]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query",
    [
        {"exit": "https://evil.example/"},
        {"exit": "javascript:alert(1)"},
        {"ref": "mekong", "exit": "https://evil.example/", "embed": "1"},
        {"ref": "mekong", "exit": f"{MEKONG}/news"},  # not the widget's frame
        {"ref": "mekong", "exit": "http://mekong.example/", "embed": "1"},
        {"ref": "mekong", "exit": "https://mekong.example.evil.example/", "embed": "1"},
        {"ref": "mekong", "exit": "https://mekong.example\\@evil.example/", "embed": "1"},
        {"ref": "mekong", "exit": "https://evil.example\\@mekong.example/", "embed": "1"},
        {"ref": "mekong", "exit": "https://x@mekong.example/", "embed": "1"},
        {"ref": "mekong", "exit": f"{MEKONG}:9999/", "embed": "1"},
        {"ref": "other", "exit": f"{MEKONG}/news", "embed": "1"},
        {"ref": "made-up", "exit": f"{MEKONG}/news", "embed": "1"},
    ],
)
async def test_a_crafted_exit_leaves_to_the_default(edge: Edge, query: dict[str, str]) -> None:
    assert await exit_of(edge.http, query) == DEFAULT_EXIT


@pytest.mark.asyncio
async def test_the_widgets_exit_on_a_site_of_its_ngo_is_honoured(edge: Edge) -> None:
    for exit_to in (f'{MEKONG}/news?a=1&b="2"', "https://MEKONG.example:8443/", f"{MEKONG}:443"):
        query = {"ref": "mekong", "exit": exit_to, "embed": "1"}
        assert await exit_of(edge.http, query) == exit_to
        assert await exit_of(edge.http, query, framed=False) == DEFAULT_EXIT, "a link, no frame"


@pytest.mark.asyncio
async def test_only_the_sites_of_the_pages_ngo_may_frame_it(edge: Edge) -> None:
    http = edge.http
    mekong = await http.get("/", params={"ref": "mekong", "embed": "1"})
    assert framers(mekong) == ["'self'", MEKONG, f"{MEKONG}:8443"]
    assert framers(await http.get("/", params={"ref": "other"})) == [
        "'self'",
        "https://other.example",
    ]
    for query in ({}, {"ref": "made-up"}, {"ref": "bad code;"}):
        assert framers(await http.get("/", params=query)) == ["'self'"], query
    for path in ("/widget.js", "/static/chat.js", "/static/index.html", "/health"):
        assert framers(await http.get(path)) == ["'none'"], path


@pytest.mark.asyncio
async def test_a_ticket_is_stored_as_a_digest_and_lasts_a_minute(edge: Edge) -> None:
    http, redis, client = edge.http, edge.redis, uuid.uuid4().hex
    answer = await http.post("/chat/tickets", json={"client": client})
    assert answer.status_code == 201 and answer.headers["cache-control"] == "no-store"
    ticket = answer.json()["ticket"]
    assert re.match(TICKET_PATTERN, ticket)
    key = web_ticket_key(hashlib.sha256(ticket.encode()).hexdigest())
    assert await redis.keys("hl:webticket:*") == [key]
    assert await redis.get(key) == conversation_id(ID_SECRET.encode(), "web", client)
    assert 0 < await redis.ttl(key) <= TICKET_SECONDS
    for stored in await redis.keys("*"):
        assert ticket not in stored and client not in stored
    second = (await http.post("/chat/tickets", json={"client": client})).json()["ticket"]
    assert second != ticket, "a new ticket each time"

    await redis.pexpire(key, 1)

    async def expired() -> bool:
        return not await redis.exists(key)

    await until_async(expired, what="the ticket to expire")
    late = await http.get("/chat/events", params={"ticket": ticket})
    assert late.status_code == 403 and "expired" in late.json()["detail"]


@pytest.mark.asyncio
async def test_bad_input_gets_a_clear_4xx(edge: Edge) -> None:
    http = edge.http
    for body in ({"client": "short"}, {"client": "a b" * 10}, {}, {"ticket": "x"}):
        assert (await http.post("/chat/tickets", json=body)).status_code == 422, body
    unknown = "A" * 43
    for params, status in (
        ({"client": uuid.uuid4().hex}, 422),  # the old way, client id in the URL: refused
        ({"ticket": "short"}, 422),
        ({"ticket": unknown, "since": "latest"}, 422),
        ({"ticket": unknown}, 403),
    ):
        answer = await http.get("/chat/events", params=params)
        assert answer.status_code == status, params
        assert answer.json()["detail"]


@pytest.mark.asyncio
async def test_tickets_count_as_pages_opened_from_the_address(edge: Edge) -> None:
    http = edge.http
    body = {"client": uuid.uuid4().hex}
    statuses = [(await http.post("/chat/tickets", json=body)).status_code for _ in range(4)]
    assert statuses == [201] * PAGES_ALLOWED + [429]
    refused = await http.post("/chat/tickets", json={"client": uuid.uuid4().hex})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


@pytest.mark.asyncio
async def test_ipv6_addresses_of_one_64_share_their_limit(edge: Edge) -> None:

    async def tickets_from(host: str) -> int:
        transport = httpx.ASGITransport(app=edge.app, client=(host, 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = {"client": uuid.uuid4().hex}
            return (await http.post("/chat/tickets", json=body)).status_code

    hosts = [f"2001:db8:1:2::{n:x}" for n in range(1, PAGES_ALLOWED + 2)]
    assert [await tickets_from(host) for host in hosts] == [201] * PAGES_ALLOWED + [429]
    assert await tickets_from("2001:db8:1:3::1") == 201, "the next /64 is someone else"


@pytest.mark.servers
def test_a_ticket_opens_the_stream_once(stack: Stack) -> None:
    ticket = httpx.post(f"{stack.url}/chat/tickets", json={"client": uuid.uuid4().hex})
    params = {"ticket": ticket.json()["ticket"], "since": "0-0"}
    with httpx.stream("GET", f"{stack.url}/chat/events", params=params, timeout=10) as first:
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/event-stream")
        again = httpx.get(f"{stack.url}/chat/events", params=params, timeout=10)
        assert again.status_code == 403, "a ticket opens one stream"
    assert httpx.get(f"{stack.url}/chat/events", params=params).status_code == 403
