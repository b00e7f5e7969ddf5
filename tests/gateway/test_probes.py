"""Health, readiness and metrics without the stack (bot/probes.py, bot/metrics.py): the web app
in-process and a real worker process, on a real Redis or none, with Rasa away; the backlog the
shared gauges read. The same with every process running: test_observability.py."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from bot import metrics
from bot.app import create_app
from bot.settings import Settings
from bot.store import DEAD_LETTERS, INBOUND, OUTBOUND, QUEUE, ROUTERS, Inbound, Store
from bot.store.states import queue_score
from tests.servers import (
    MESSAGE_KEY,
    environment,
    free_port,
    gateway_environment,
    start_worker,
    stop,
    wait_http,
)

ID_SECRET = "x" * 32


def web_settings(redis_port: int, **more: str) -> Settings:
    env = {
        "DEPLOYMENT": "local",
        "ID_SECRET": ID_SECRET,
        "MESSAGE_KEY": MESSAGE_KEY,
        "REDIS_PORT": str(redis_port),
        **more,
    }
    return Settings.from_env(env)


def sample(name: str, **labels: str) -> float:
    """A sample of this process's registry (0 when it has none yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.asyncio
async def test_the_web_process_is_alive_but_not_ready_while_redis_is_away() -> None:
    app = create_app(web_settings(free_port()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        alive = await client.get("/health")
        ready = await client.get("/ready")
    # Restarting the web process would not bring Redis back.
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "redis": "down", "down": ["redis"]}


@pytest.mark.asyncio
async def test_the_web_process_is_ready_when_redis_answers(redis_port: int) -> None:
    app = create_app(web_settings(redis_port))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ready = await client.get("/ready")
        public_metrics = await client.get("/metrics")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "redis": "ok"}
    # Metrics are on the internal port only.
    assert public_metrics.status_code == 404


@pytest.mark.asyncio
async def test_accepted_messages_and_limit_refusals_are_counted(redis_port: int) -> None:
    app = create_app(web_settings(redis_port, LIMIT_WEB_CHAT="2/60"))
    client_id = uuid.uuid4().hex
    before_in = sample("hotline_messages_in_total", channel="web")
    before_refused = sample("hotline_limit_refusals_total", limit="web-chat")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        statuses = []
        for n in (1, 2, 1, 3):  # the third is a replay of the first: not counted again
            body = {"client": client_id, "id": f"m{n}", "text": "hello"}
            statuses.append((await client.post("/chat/messages", json=body)).status_code)
    assert statuses == [202, 202, 429, 429]
    assert sample("hotline_messages_in_total", channel="web") == before_in + 2
    assert sample("hotline_limit_refusals_total", limit="web-chat") == before_refused + 2


@pytest.mark.asyncio
async def test_the_backlog_counts_what_waits(store: Store) -> None:
    empty = await store.backlog()
    assert empty.entries == {"inbound": 0, "outbound": 0}
    assert empty.oldest_seconds == {"inbound": 0.0, "outbound": 0.0}
    assert set(empty.handoffs.values()) == {0} and empty.dead_letters == 0

    convs = [
        await store.accept(Inbound(channel="web", user=f"u{n}", event_id=f"e{n}", text="hi"))
        for n in range(4)
    ]
    now = time.time()
    waiting = {"immediate": 2, "high": 1, "low": 3}
    for risk, count in waiting.items():
        for n in range(count):
            await store.redis.zadd(QUEUE, {f"{risk}-{n}": queue_score(risk, now - n * 3600)})
    await store.redis.zadd(QUEUE, {"odd": queue_score("unheard-of", now)})
    await store.redis.xgroup_create(INBOUND, ROUTERS, id="0")
    read = await store.redis.xreadgroup(ROUTERS, "test", {INBOUND: ">"}, count=1)
    # An entry no worker can read leaves the stream for the dead letters at once.
    malformed = {"conv": str(convs[0])}
    await store.failed(INBOUND, ROUTERS, read[0][1][0][0], malformed, ValueError("malformed"))

    found = await store.backlog()
    assert found.entries == {"inbound": 3, "outbound": 0}
    assert 0 <= found.oldest_seconds["inbound"] < 60 and found.oldest_seconds["outbound"] == 0
    assert found.handoffs == {"immediate": 2, "high": 1, "medium": 0, "low": 3, "other": 1}
    assert found.dead_letters == 1 == await store.redis.xlen(DEAD_LETTERS)
    await store.redis.xadd(OUTBOUND, {"conv": "c"}, id="1000-0")
    assert (await store.backlog()).oldest_seconds["outbound"] > 3600


@pytest.mark.asyncio
async def test_shared_gauges_are_left_out_while_redis_is_away(redis_port: int) -> None:
    app = create_app(web_settings(free_port()))
    exposition = metrics.Exposition(app.state.store)
    text = (await exposition.render()).decode()
    assert "hotline_messages_in_total" in text
    assert "hotline_stream_entries" not in text


@pytest.fixture
def worker_env(redis_port: int) -> dict[str, str]:
    """A worker's settings against the session's Redis, with no Rasa listening."""
    nobody = f"http://127.0.0.1:{free_port()}"
    return gateway_environment(environment(redis_port, free_port()), nobody)


def run_worker(env: dict[str, str], logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = start_worker(env, logs, f"probe-{uuid.uuid4().hex[:6]}", port)
    url = f"http://127.0.0.1:{port}"
    if not wait_http(f"{url}/health", 60):
        stop(process)
        raise AssertionError("the worker's internal port did not answer")
    return process, url


def test_the_worker_is_not_ready_without_rasa_and_says_so(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    process, url = run_worker(worker_env, tmp_path)
    try:
        assert httpx.get(f"{url}/health").status_code == 200
        ready = httpx.get(f"{url}/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "not ready",
            "redis": "ok",
            "rasa": "down",
            "down": ["rasa"],
        }
        exposed = httpx.get(f"{url}/metrics")
        assert exposed.status_code == 200
        assert "hotline_messages_out_total" in exposed.text
        assert 'hotline_handoffs_waiting{risk="immediate"}' in exposed.text
        # A second worker on the same port: one line naming the setting, and it stops.
        port = int(url.rsplit(":", 1)[1])
        second = start_worker(worker_env, tmp_path, "second", port)
        assert second.wait(60) == 2
        said = (tmp_path / "worker-second.log").read_text()
        assert f"worker: WORKER_PORT: cannot listen on 127.0.0.1:{port}" in said
        assert "Traceback" not in said
    finally:
        stop(process)
    # SIGTERM ends it cleanly.
    assert process.returncode == 0


def test_the_worker_is_not_ready_without_redis_and_says_so(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    process, url = run_worker({**worker_env, "REDIS_PORT": str(free_port())}, tmp_path)
    try:
        ready = httpx.get(f"{url}/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["redis"] == "down" and "redis" in ready.json()["down"]
        assert httpx.get(f"{url}/health").status_code == 200
    finally:
        stop(process)
