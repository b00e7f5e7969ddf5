"""The gateway's worker process: the router (inbound stream -> Rasa -> outbound stream) and the
senders (outbound stream -> channels). Run several for more throughput; they share the streams.

Run: .venv/bin/python -m bot.worker  (make run does it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys

import redis.asyncio as aioredis

from bot.consumer import Consumer
from bot.rasa_client import RasaClient
from bot.router import Router
from bot.senders import Senders
from bot.settings import Settings, SettingsError
from bot.store import INBOUND, OUTBOUND, ROUTERS, SENDERS, Store

log = logging.getLogger(__name__)


async def serve(settings: Settings, name: str) -> None:
    """Runs the router and the senders until SIGTERM or SIGINT."""
    client = aioredis.Redis(
        host=settings.redis_host, port=settings.redis_port, decode_responses=True
    )
    store = Store(client, settings.id_secret, settings.message_key, settings.conversation_ttl)
    rasa = RasaClient(settings.rasa_url)
    router = Consumer(client, INBOUND, ROUTERS, name, Router(store, rasa).handle)
    senders = Consumer(client, OUTBOUND, SENDERS, name, Senders(store, {}).handle)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await asyncio.gather(router.run(stop), senders.run(stop))
    finally:
        await rasa.close()
        await client.aclose()


def main() -> None:
    """Reads the settings and runs; a wrong setting is one line on stderr and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"worker: {error}", file=sys.stderr)  # noqa: T201
        sys.exit(2)
    # A stable name per host and slot, so a restarted worker picks up what it had read before.
    name = os.environ.get("WORKER_NAME") or f"{socket.gethostname()}-1"
    asyncio.run(serve(settings, name))


if __name__ == "__main__":
    main()
