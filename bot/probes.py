"""Health, readiness and metrics of a gateway process, for a process manager, a load balancer or
Kubernetes, and Prometheus.

- /health: the process is alive (it answers, and its own loops are not stuck); a failing one is
  worth restarting. Never asks Redis or Rasa: an outage of either must not restart every process.
- /ready: what the process needs answers, within READY_SECONDS: Redis for the web process; Redis
  and at least one Rasa server for the worker. 503 otherwise, with a JSON body naming what is
  down. The web process does not wait for Rasa: while Rasa is away, messages are queued and the
  console stays open to operators.
- /metrics: Prometheus's text format (bot/metrics.py), only on the internal port.

The internal port (METRICS_PORT for the web process, WORKER_PORT for the worker) listens on
METRICS_HOST, 127.0.0.1 unless set, apart from the public port: its metrics are for the hotline's
own network, and it serves nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from redis.exceptions import RedisError

from bot.metrics import Exposition
from bot.rasa_client import RasaClient

READY_SECONDS = 2.0
OK = "ok"
DOWN = "down"

# Why the process is not alive (None when it is).
Alive = Callable[[], str | None]
# What the process depends on, each "ok" or "down".
Ready = Callable[[], Awaitable[dict[str, str]]]


async def redis_state(client: aioredis.Redis) -> str:
    """OK when Redis answers a PING within READY_SECONDS."""
    try:
        await asyncio.wait_for(client.ping(), READY_SECONDS)
    except (RedisError, OSError, TimeoutError):
        return DOWN
    return OK


async def rasa_state(rasa: RasaClient) -> str:
    """OK when a Rasa server answers within READY_SECONDS."""
    return OK if await rasa.answers(READY_SECONDS) else DOWN


def health(why_not: str | None) -> tuple[int, dict[str, Any]]:
    """/health's status and body."""
    if why_not:
        return 503, {"status": why_not}
    return 200, {"status": OK}


def readiness(states: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """/ready's status and body: each dependency's state, and which are down."""
    down = [name for name, state in states.items() if state != OK]
    body: dict[str, Any] = {"status": "not ready" if down else "ready", **states}
    if down:
        body["down"] = down
    return (503 if down else 200), body


def internal_app(alive: Alive, ready: Ready, exposition: Exposition) -> web.Application:
    """The internal port's app: /health, /ready and /metrics, nothing else."""

    async def get_health(request: web.Request) -> web.Response:
        status, body = health(alive())
        return web.json_response(body, status=status)

    async def get_ready(request: web.Request) -> web.Response:
        status, body = readiness(await ready())
        return web.json_response(body, status=status)

    async def get_metrics(request: web.Request) -> web.Response:
        body = await exposition.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    app = web.Application()
    app.router.add_get("/health", get_health)
    app.router.add_get("/ready", get_ready)
    app.router.add_get("/metrics", get_metrics)
    return app


async def serve_internal(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Starts the internal port; OSError when it is taken. The caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner
