"""The gateway's web process: channel webhooks and the web chat (FastAPI).

Run: .venv/bin/python -m bot.app  (make run does it). The router and senders run in bot/worker.py.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot import webchat
from bot.body_limit import BodyLimit
from bot.settings import Settings, SettingsError
from bot.store import Store

# No webhook of Telegram, LINE or the web chat is anywhere near this.
MAX_BODY = 256 * 1024

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The ASGI app for these settings."""
    client = aioredis.Redis(
        host=settings.redis_host, port=settings.redis_port, decode_responses=True
    )
    store = Store(client, settings.id_secret, settings.message_key, settings.conversation_ttl)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="Hotline gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(webchat.routes(store))
    app.mount("/static", StaticFiles(directory=webchat.STATIC), name="static")

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        """200 when Redis answers."""
        await client.ping()
        return {"status": "ok"}

    app.add_middleware(BodyLimit, limit=MAX_BODY)
    return app


def main() -> None:
    """Reads the settings and serves; a wrong setting is one line on stderr and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"bot: {error}", file=sys.stderr)  # noqa: T201
        sys.exit(2)
    print(f"== Web chat: http://{settings.host}:{settings.port}/", flush=True)  # noqa: T201
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
