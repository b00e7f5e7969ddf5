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
from collections.abc import Awaitable, Callable
from functools import partial

import aiohttp
import uvloop
from redis.exceptions import RedisError

from bot import line_channel, memory, metrics, outbox, probes, reminders, telegram_channel
from bot.consumer import Consumer
from bot.media import media_store
from bot.rasa_client import RasaClient
from bot.redis_client import connect
from bot.router import Router
from bot.safety import QuickExit
from bot.senders import ChannelSender, Senders
from bot.settings import Settings, start_process
from bot.store import INBOUND, OUTBOUND, ROUTERS, SENDERS, Store
from bot.voices import Voices

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0
# How often the outbox is looked at for envelopes due to partner hotlines (bot/outbox.py).
OUTBOX_SECONDS = 2.0


async def serve(settings: Settings, name: str) -> None:
    """Runs the router and the senders until SIGTERM or SIGINT, then drains: the router stops
    reading, finishes the entries it is handling and leaves those it read but did not start to
    the other workers (bot/consumer.py); then the senders do the same, so that the replies made
    meanwhile go out. What is left waits in the streams for any worker."""
    client = connect(settings.redis)
    store = Store(client, settings.id_secret, settings.message_key, settings.conversation_ttl)
    rasa = RasaClient(settings.rasa_urls)

    async def ready() -> dict[str, str]:
        redis_state, rasa_state = await asyncio.gather(
            probes.redis_state(client), probes.rasa_state(rasa)
        )
        return {"redis": redis_state, "rasa": rasa_state}

    internal = probes.internal_app(lambda: None, ready, metrics.Exposition(store))
    where = f"{settings.metrics_host}:{settings.worker_port}"
    try:
        runner = await probes.serve_internal(internal, settings.metrics_host, settings.worker_port)
    except OSError as error:
        said = f"worker: WORKER_PORT: cannot listen on {where} ({error.strerror})"
        print(said, file=sys.stderr)  # noqa: T201
        await rasa.close()
        await client.aclose()
        sys.exit(2)
    print(f"== Worker {name}: /health, /ready, /metrics on http://{where}", flush=True)  # noqa: T201
    channels: dict[str, ChannelSender] = {}
    if settings.telegram_token:
        bot = telegram_channel.make_bot(settings.telegram_token, settings.telegram_api_url)
        try:
            await telegram_channel.start_bot(bot)
            channels[telegram_channel.CHANNEL] = telegram_channel.TelegramSender(bot)
        except telegram_channel.TelegramSetupError as error:
            print(f"worker: {error}; Telegram replies are not sent.", file=sys.stderr)  # noqa: T201
    if settings.line:
        api = line_channel.make_api(settings.line_access_token, settings.line_api_url)
        blob = line_channel.make_blob_api(settings.line_access_token, settings.line_data_url)
        channels[line_channel.CHANNEL] = line_channel.LineSender(api, blob, settings.web_base)
    media = media_store(settings.media_dir, settings.media_s3_url, store.sealer)
    sounds = Voices(store.redis, media.storage, store.sealer)
    route = Router(store, rasa, QuickExit(settings.safe_word), media, channels, sounds)
    router = Consumer(client, INBOUND, ROUTERS, name, route.handle, route.failed)
    send = Senders(store, channels, media, sounds)
    partner_http = aiohttp.ClientSession()
    senders = Consumer(client, OUTBOUND, SENDERS, name, send.handle, send.failed)
    stop = asyncio.Event()
    routed = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, partial(stopping, name, stop))

    async def route_then_let_senders_stop() -> None:
        await router.run(stop)
        routed.set()

    try:
        await asyncio.gather(
            route_then_let_senders_stop(),
            senders.run(routed),
            # Retention for what conversations share (see Store.sweep).
            periodically("expired entries removed", store.sweep, SWEEP_SECONDS, stop),
            periodically(
                "media of gone conversations removed",
                partial(media.sweep, client),
                SWEEP_SECONDS,
                stop,
            ),
            periodically(
                "waiting people reminded",
                partial(reminders.remind_due, store, settings.wait_reminder_minutes * 60),
                reminders.CHECK_SECONDS,
                stop,
            ),
            periodically(
                "Redis memory high", partial(memory.check, client), memory.CHECK_SECONDS, stop
            ),
            periodically(
                "received referrals past their time removed",
                store.sweep_received,
                SWEEP_SECONDS,
                stop,
            ),
            periodically(
                "envelopes landed at partner hotlines",
                partial(outbox.deliver_due, store, settings.referral_key, partner_http),
                OUTBOX_SECONDS,
                stop,
            ),
        )
    finally:
        await partner_http.close()
        for sender in channels.values():
            await sender.close()
        await runner.cleanup()
        await rasa.close()
        await client.aclose()
    log.info("%s: stopped", name)


def stopping(name: str, stop: asyncio.Event) -> None:
    """SIGTERM or SIGINT: stop reading, finish what is in hand."""
    if not stop.is_set():
        log.info("%s: stopping: finishing the entries in hand", name)
    stop.set()


async def periodically(
    what: str, job: Callable[[], Awaitable[int]], seconds: float, stop: asyncio.Event
) -> None:
    """Runs a job of every worker (it must be safe to run in several at once) every `seconds`
    until `stop` is set, logging how many things it did; a Redis outage is tried again later."""
    while not stop.is_set():
        try:
            done = await job()
            if done:
                log.info("%s: %d", what, done)
        except (RedisError, OSError) as error:
            log.warning("%s failed (%s); trying again later", what, type(error).__name__)
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass


def main() -> None:
    """Reads the settings and runs."""
    settings = start_process("worker", user="worker")
    # Unique: two workers under one name would each take up the other's entries. What a worker
    # that stopped had read is taken over by the others after a few seconds (bot/consumer.py).
    name = os.environ.get("WORKER_NAME") or f"{socket.gethostname()}-{os.getpid()}"
    uvloop.run(serve(settings, name))


if __name__ == "__main__":
    main()
