"""The whole stack for the gateway and console benchmarks: Redis, the action server, Rasa servers,
the web process in webhook mode and workers, each in its own process, with the stand-in Telegram
API served in the caller's event loop (a thread would compete with the client for the
interpreter)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.telegram_channel import webhook_secret  # noqa: E402
from tests.servers import (  # noqa: E402
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
from tests.standins.telegram_api import TOKEN, TelegramStandIn  # noqa: E402

MODEL = ROOT / "models" / "assistant.tar.gz"


@dataclass(frozen=True)
class Running:
    """Where the started stack answers."""

    url: str
    env: dict[str, str]
    rasa_urls: list[str]
    redis_port: int
    telegram: TelegramStandIn
    secret: str


@asynccontextmanager
async def running(
    rasa_servers: int = 1, workers: int = 1, settings: dict[str, str] | None = None
) -> AsyncIterator[Running]:
    """Starts everything (servers from a thread, so that the stand-in can answer the web process
    while it starts); stops everything on the way out. `settings` override the gateway's."""
    if not MODEL.exists():
        sys.exit("No trained model: run `make train` first.")
    telegram = TelegramStandIn()
    serving = await telegram.serve_here()
    with tempfile.TemporaryDirectory() as temp, ExitStack() as started:
        logs = Path(temp)
        server = RedisProcess(logs)
        started.callback(server.stop)
        env = environment(server.port, free_port())
        await asyncio.to_thread(started.enter_context, action_server(env, logs))
        rasa_urls = []
        for _ in range(rasa_servers):
            rasa, _ = await asyncio.to_thread(started.enter_context, rasa_server(MODEL, env, logs))
            rasa_urls.append(rasa)
        port = free_port()
        web_env = {
            **gateway_environment(env, ",".join(rasa_urls)),
            "BOT_PORT": str(port),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_URL": telegram.url,
            **(settings or {}),
        }
        url = await asyncio.to_thread(started.enter_context, gateway(web_env, logs))
        for n in range(workers):
            started.callback(stop, start_worker(web_env, logs, f"b{n}"))
        secret = webhook_secret(web_env["ID_SECRET"].encode())
        try:
            yield Running(url, web_env, rasa_urls, server.port, telegram, secret)
        finally:
            await asyncio.to_thread(started.close)
            await telegram.stop_here(serving)
