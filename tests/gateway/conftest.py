"""Fixtures of the gateway tests (services' environment): a store on a real Redis, and the whole
stack of real processes (Redis, actions, Rasa, the gateway, a worker, a stand-in Telegram API).

The stack is started once per session (Rasa alone takes most of a minute) and handed to each test
module with a clean slate: the module's work must be done when it ends, and the next one starts
with the stack's Redis emptied of everything but what keeps the processes running, one worker, and
stand-ins that refuse nothing. No module sees another's conversations, accounts or NGOs."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import redis
import redis.asyncio as aioredis
from playwright.sync_api import Browser, sync_playwright

from bot.privacy import conversation_id
from bot.store import (
    CONSOLE,
    INBOUND,
    NGOS,
    OUTBOUND,
    ROUTERS,
    SENDERS,
    TELEGRAM_OFFSET,
    TELEGRAM_POLLER,
    Store,
    conversation_key,
)
from tests.servers import (
    ROOT,
    RedisProcess,
    action_server,
    environment,
    free_port,
    gateway,
    gateway_environment,
    rasa_server,
    start_worker,
    stop,
)
from tests.standins import line_api
from tests.standins.line_api import LineStandIn
from tests.standins.telegram_api import TOKEN, TelegramStandIn
from tests.standins.translate_api import API_KEY, TranslateStandIn
from tests.waiting import until

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# What this machine's Chromium needs headless, as root and without a network (see the README).
CHROMIUM_FLAGS = [
    "--headless",
    # The console's voice recorder: a fake microphone (a tone), allowed without asking.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ID_SECRET = b"test-id-secret"
MESSAGE_KEY = base64.urlsafe_b64encode(b"k" * 32)
MODEL = ROOT / "models" / "assistant.tar.gz"
REFERRALS = ("ngo-1", "ngo-7", "ngo-9")
# What a module's clean slate keeps: the streams the processes read in consumer groups or follow
# (emptied and their groups' entries acknowledged, never deleted: a worker's group goes with its
# stream), and Telegram polling's lease and position (the stand-in has already dropped the updates
# before that position).
RUNNING = (INBOUND, OUTBOUND, CONSOLE)
GROUPS = ((INBOUND, ROUTERS), (OUTBOUND, SENDERS))
KEPT = {*RUNNING, TELEGRAM_OFFSET, TELEGRAM_POLLER}


@pytest_asyncio.fixture
async def store(redis_port: int) -> AsyncIterator[Store]:
    """A store on a flushed Redis."""
    client = aioredis.Redis(host="127.0.0.1", port=redis_port, decode_responses=True)
    await client.flushall()
    yield Store(client, ID_SECRET, MESSAGE_KEY, ttl=3600)
    await client.aclose()


class Stack:
    """The running servers, and a way to start and kill workers."""

    def __init__(
        self,
        url: str,
        env: dict[str, str],
        logs: Path,
        server: RedisProcess,
        telegram: TelegramStandIn,
        line: LineStandIn,
        translate: TranslateStandIn,
    ) -> None:
        self.url = url
        self.env = env
        self.logs = logs
        self.server = server
        self.telegram = telegram
        self.line = line
        self.translate = translate
        self.redis = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.worker_names: dict[int, str] = {}
        # The internal ports (bot/probes.py): the web process's, and each worker's by process id.
        self.metrics_url = ""
        self.worker_urls: dict[int, str] = {}

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        """Starts a worker under a consumer name."""
        port = free_port()
        process = start_worker(self.env, self.logs, name, port)
        self.workers.append(process)
        self.worker_names[process.pid] = name
        self.worker_urls[process.pid] = f"http://127.0.0.1:{port}"
        return process

    def running_workers(self) -> list[subprocess.Popen[bytes]]:
        """The workers that have not stopped, oldest first."""
        return [process for process in self.workers if process.poll() is None]

    def handled(self, conv: str, seconds: float = 60) -> dict[str, str]:
        """Waits until everything the conversation sent so far is handled and every reply to it
        delivered (its counters: in_done = in_seq, out_done = out_seq; the senders count a reply
        only once the channel took it); returns the conversation's hash. Call it once the message
        is stored (the web chat or a webhook answered, or a reply came): before, there is nothing
        to wait for. An erased conversation has nothing left but the confirmation, which is not
        counted."""

        def counters() -> dict[str, str]:
            found = self.redis.hgetall(conversation_key(conv))
            return {
                k: v for k, v in found.items() if k in ("in_seq", "in_done", "out_seq", "out_done")
            }

        def settled() -> bool:
            found = counters()
            return not found or (
                found.get("in_done") == found.get("in_seq")
                and found.get("out_done") == found.get("out_seq")
            )

        until(settled, seconds, lambda: f"{conv} to be handled; its counters: {counters()}")
        return dict(self.redis.hgetall(conversation_key(conv)))

    def idle(self, seconds: float = 60) -> None:
        """Waits until no received message and no reply waits to be handled."""

        def waiting() -> dict[str, int]:
            return {stream: int(self.redis.xlen(stream)) for stream in (INBOUND, OUTBOUND)}

        until(
            lambda: not any(waiting().values()),
            seconds,
            lambda: f"every message and reply to be handled; still in the streams: {waiting()}",
        )

    def well(self) -> bool:
        """Whether the web process says it is alive and ready (/health: 503 while Telegram
        polling fails; /ready: 503 while Redis does not answer)."""
        try:
            return all(
                httpx.get(f"{self.url}{path}", timeout=20).status_code == 200
                for path in ("/health", "/ready")
            )
        except httpx.HTTPError:
            return False

    def clean_slate(self) -> None:
        """What a test module starts from: the web process well, one worker, a Redis holding only
        what keeps the processes running (and the NGO codes the tests' links carry), stand-ins
        that refuse nothing."""
        until(self.well, 90, "the web process to say it is well")
        running = self.running_workers()
        for extra in running[1:]:
            stop(extra)
        if not running:
            self.worker("w1")
        for stream in RUNNING:
            if self.redis.exists(stream):
                self.redis.xtrim(stream, maxlen=0)
        for stream, group in GROUPS:
            groups = self.redis.xinfo_groups(stream) if self.redis.exists(stream) else []
            if any(found["name"] == group for found in groups):
                while pending := self.redis.xpending_range(stream, group, "-", "+", 1000):
                    self.redis.xack(stream, group, *(entry["message_id"] for entry in pending))
        gone = [key for key in self.redis.scan_iter(count=1000) if key not in KEPT]
        for start in range(0, len(gone), 1000):
            self.redis.unlink(*gone[start : start + 1000])
        # The codes the tests' links carry: only a registered NGO's code is kept.
        self.redis.sadd(NGOS, *REFERRALS)
        self.telegram.too_many.clear()
        self.line.too_many = 0

    def conv(self, user: str, channel: str = "web") -> str:
        """The conversation id the gateway gives a channel's user."""
        return conversation_id(self.env["ID_SECRET"].encode(), channel, user)

    def last_received(self) -> str:
        """The id of the last message ever added to the inbound stream (handled ones are deleted,
        so its length says nothing); none before the stream exists."""
        if not self.redis.exists(INBOUND):
            return "none"
        return str(self.redis.xinfo_stream(INBOUND)["last-generated-id"])

    def refuses(self, url: str, body: bytes, headers: dict[str, str], status: int) -> None:
        """A hostile request gets `status`, nothing is stored, and the server still answers."""
        before = self.last_received()
        headers = {"Content-Type": "application/json", **headers}
        response = httpx.post(url, content=body, headers=headers, timeout=10)
        assert response.status_code == status
        assert self.last_received() == before
        root = url.split("/", 3)[:3]
        assert httpx.get("/".join(root) + "/health").status_code == 200


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Everything `make run` starts, with Telegram (long polling), LINE and the operators' machine
    translation pointed at stand-ins; once per session (tests take it as `stack`)."""
    if not MODEL.exists():
        pytest.fail("No trained model: `make test` trains one first (make train).")
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    env = environment(server.port, free_port())
    logs = tmp_path_factory.mktemp("logs")
    try:
        with (
            TelegramStandIn() as telegram,
            LineStandIn() as line,
            TranslateStandIn() as translate,
            action_server(env, logs),
            rasa_server(MODEL, env, logs) as (rasa_url, _),
        ):
            gateway_env = {
                **gateway_environment(env, rasa_url),
                "TELEGRAM_TOKEN": TOKEN,
                "TELEGRAM_API_URL": telegram.url,
                "LINE_CHANNEL_SECRET": line_api.SECRET,
                "LINE_ACCESS_TOKEN": line_api.TOKEN,
                "LINE_API_URL": line.url,
                "LINE_DATA_URL": line.url,
                "MEDIA_DIR": str(tmp_path_factory.mktemp("media")),
                "TRANSLATE_URL": translate.url,
                "TRANSLATE_API_KEY": API_KEY,
            }
            metrics_port = free_port()
            with gateway(gateway_env, logs, metrics_port) as url:
                running = Stack(url, gateway_env, logs, server, telegram, line, translate)
                running.metrics_url = f"http://127.0.0.1:{metrics_port}"
                running.worker("w1")
                try:
                    yield running
                finally:
                    for process in running.workers:
                        stop(process)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(running_stack: Stack) -> Iterator[Stack]:
    """The session's stack with a clean slate for this module (Stack.clean_slate); the module's
    messages must all be handled when it ends, so that none of its work runs into the next."""
    running_stack.clean_slate()
    yield running_stack
    running_stack.idle()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium under Playwright (Debian's package, installed by `make browser`). Per module:
    Playwright's sync API keeps an event loop running, which the async tests of the next modules
    cannot share."""
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `make browser` installs Debian's package.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()
