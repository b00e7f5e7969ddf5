"""The gateway's web process: channel webhooks and the web chat (FastAPI).

Run alone: .venv/bin/python -m bot.app. `make run` runs handoff.web: this app with the operator
console. The router and senders run in bot/worker.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from telegram import Bot

from bot import line_channel, metrics, probes, referral_inbox, telegram_channel, webchat
from bot.body_limit import BodyLimit
from bot.chat_limits import ChatLimiter
from bot.media import MOST_BYTES, media_store
from bot.page_streams import PageStreams
from bot.redis_client import connect
from bot.safety import QuickExit
from bot.settings import Settings, start_process
from bot.store import Backlogged, Store
from bot.voices import Voices

# No webhook of Telegram, LINE or the web chat is anywhere near this.
MAX_BODY = 256 * 1024
# How long Telegram polling may fail before /health says so.
UNHEALTHY_SECONDS = 30
# The web process's Redis connections, and how long a request waits for one when all are busy.
REDIS_CONNECTIONS = 64
REDIS_WAIT_SECONDS = 10.0
# What a refused message is told to wait when the inbound backlog is full.
BUSY_SECONDS = 10
# The chat page sets its own frame-ancestors (bot/webchat.py); nothing else may be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": f"{webchat.POLICY}; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The ASGI app for these settings."""
    # Bounded, and waiting for a free connection rather than failing: a busy evening slows the
    # web process down instead of turning its answers into 500s.
    client = connect(settings.redis, REDIS_CONNECTIONS, REDIS_WAIT_SECONDS)
    store = Store(
        client,
        settings.id_secret,
        settings.message_key,
        settings.conversation_ttl,
        wait_replicas=settings.redis.wait_replicas,
    )
    pages = PageStreams(client)
    chats = ChatLimiter(store, settings.limits["chat"], QuickExit(settings.safe_word))

    bot = None
    if settings.telegram_token:
        bot = telegram_channel.make_bot(settings.telegram_token, settings.telegram_api_url)
    secret = telegram_channel.webhook_secret(settings.id_secret)
    polling = telegram_channel.Polling()

    def alive() -> str | None:
        """Why this process is not well: Telegram long polling failing for UNHEALTHY_SECONDS (a
        process manager may restart it); None when it is."""
        failing = polling.failing_for()
        if failing > UNHEALTHY_SECONDS:
            return f"Telegram polling has failed for {failing:.0f} s"
        return None

    async def ready() -> dict[str, str]:
        """What the web process needs to take messages: Redis."""
        return {"redis": await probes.redis_state(client)}

    internal = probes.internal_app(alive, ready, metrics.Exposition(store))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        where = f"{settings.metrics_host}:{settings.metrics_port}"
        try:
            runner = await probes.serve_internal(
                internal, settings.metrics_host, settings.metrics_port
            )
        except OSError as error:
            said = f"web: METRICS_PORT: cannot listen on {where} ({error.strerror})"
            print(said, file=sys.stderr, flush=True)  # noqa: T201
            raise
        print(f"== Metrics: http://{where}/metrics", flush=True)  # noqa: T201
        pages.start()
        if bot is not None and await _start_telegram(bot, settings, secret):
            if not settings.public_url:
                holder = f"{os.uname().nodename}-{os.getpid()}"
                job = telegram_channel.supervised(chats, bot, holder, polling)
                tasks.append(asyncio.create_task(job))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        await pages.stop()
        await client.aclose()

    app = FastAPI(title="Hotline gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.media = media_store(settings.media_dir, settings.media_s3_url, store.sealer)
    app.state.voices = Voices(store.redis, app.state.media.storage, store.sealer)
    app.state.settings = settings
    app.state.pages = pages
    app.include_router(
        webchat.routes(store, pages, settings.limits, app.state.media, app.state.voices)
    )
    app.include_router(referral_inbox.routes(store, settings.referral_key, settings.limits))
    if bot is not None:
        app.include_router(telegram_channel.routes(chats, bot, secret))
    if settings.line:
        app.include_router(line_channel.routes(chats, settings.line_channel_secret))
        print(f"== LINE: webhook at {line_channel.WEBHOOK_PATH}", flush=True)  # noqa: T201
    app.mount("/static", StaticFiles(directory=webchat.STATIC), name="static")

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        """Alive (bot/probes.py): 503 only while Telegram polling has failed for long."""
        status, body = probes.health(alive())
        return JSONResponse(body, status_code=status)

    @app.get("/ready", include_in_schema=False)
    async def is_ready() -> JSONResponse:
        """Ready to take messages (bot/probes.py): 503 naming Redis while it does not answer."""
        status, body = probes.readiness(await ready())
        return JSONResponse(body, status_code=status)

    @app.exception_handler(Backlogged)
    async def backlogged(request: Request, error: Backlogged) -> JSONResponse:
        """Too much waits to be handled: the channels (and the web chat) send it again later."""
        log.warning("refused a message: %s", error)
        metrics.refused(metrics.BACKLOG)
        headers = {"Retry-After": str(BUSY_SECONDS)}
        return JSONResponse({"detail": "busy, try again later"}, status_code=503, headers=headers)

    headers = dict(SECURITY_HEADERS)
    if settings.public_url.startswith("https:"):
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """The same headers on every answer (the console sets its own, stricter ones)."""
        response = await call_next(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    # Photos, recordings and files: from a web chat page, and from an operator in the console.
    wider = {
        re.escape(webchat.MEDIA_PATH): MOST_BYTES,
        r"/console/c/[^/]+/file": MOST_BYTES,
        r"/console/voices/[^/]+/[^/]+": MOST_BYTES,
    }
    app.add_middleware(BodyLimit, limit=MAX_BODY, wider=wider)
    return app


async def _start_telegram(bot: Bot, settings: Settings, secret: str) -> bool:
    """Checks the token and registers commands and the webhook; one line when it cannot."""
    try:
        await telegram_channel.start_bot(bot)
        await telegram_channel.set_commands(bot)
        if settings.public_url:
            await telegram_channel.use_webhook(bot, settings.public_url, secret)
    except telegram_channel.TelegramSetupError as error:
        print(f"bot: {error}; Telegram is off.", file=sys.stderr, flush=True)  # noqa: T201
        return False
    mode = "webhook" if settings.public_url else "long polling"
    print(f"== Telegram: @{bot.username}, {mode}", flush=True)  # noqa: T201
    return True


# Open web chat pages hold their event streams: a restart waits this long for them, then ends them
# (each page reconnects by itself).
GRACEFUL_SECONDS = 5


def serve(app: FastAPI, settings: Settings) -> None:
    """Serves the app where the settings say. A client's address is its connection's, or what
    X-Forwarded-For says when the connection comes from a proxy of FORWARDED_ALLOW_IPS."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        proxy_headers=bool(settings.forwarded_allow_ips),
        # Always given: left out, uvicorn would read it from the environment or trust 127.0.0.1.
        forwarded_allow_ips=list(settings.forwarded_allow_ips),
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )


def main() -> None:
    """Reads the settings and serves the gateway alone (handoff.web serves it with the console)."""
    settings = start_process("bot")
    print(f"== Web chat: http://{settings.host}:{settings.port}/", flush=True)  # noqa: T201
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
