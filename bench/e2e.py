"""Messages through the whole gateway, from Telegram's webhook to the reply arriving at a stand-in
Telegram Bot API, at 1 and at 50 concurrent conversations, beside bare Rasa REST on the same model
in the same run.

Each conversation sends a message, waits for the reply, sends the next. Latency is from the POST of
the update to the webhook until the bot's reply reaches the stand-in (for Rasa REST: until the HTTP
answer). Prints p50/p99 and messages per second.

With `--rasa 2` the gateway spreads conversations over two Rasa servers (same model, same Redis
tracker and lock stores); bare Rasa REST is always one server.

Usage: .venv/bin/python bench/e2e.py [--messages 200] [--conversations 50] [--per-conversation 30]
       [--workers 1] [--rasa 1]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import running  # noqa: E402
from tests.standins.telegram_api import TelegramStandIn  # noqa: E402

# A message whose answer is one bot message, so "the reply arrived" is one sendMessage.
TEXT = "ขอบคุณครับ"
chats = itertools.count(900_000)

Send = Callable[[httpx.AsyncClient, int], Awaitable[float]]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Arrivals:
    """Wakes the sender of a message when the stand-in receives the reply for its chat."""

    def __init__(self, telegram: TelegramStandIn) -> None:
        self.waiting: dict[int, asyncio.Event] = {}
        telegram.on_sent.append(self.arrived)

    def arrived(self, chat_id: int) -> None:
        event = self.waiting.get(chat_id)
        if event is not None:
            event.set()

    def expect(self, chat_id: int) -> asyncio.Event:
        event = self.waiting[chat_id] = asyncio.Event()
        return event


def through_gateway(telegram: TelegramStandIn, url: str, secret: str) -> Send:
    """One message through the Telegram webhook; seconds until its reply reached the stand-in."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    arrivals = Arrivals(telegram)

    async def send(http: httpx.AsyncClient, chat_id: int) -> float:
        update = telegram.text_update(chat_id, TEXT)
        arrived = arrivals.expect(chat_id)
        start = time.perf_counter()
        response = await http.post(f"{url}/telegram/webhook", json=update, headers=headers)
        response.raise_for_status()
        await asyncio.wait_for(arrived.wait(), 60)
        return time.perf_counter() - start

    return send


def through_rasa(rasa_url: str) -> Send:
    """One message straight to Rasa's REST channel; seconds until the HTTP answer."""

    async def send(http: httpx.AsyncClient, chat_id: int) -> float:
        body = {"sender": f"bench-{chat_id}", "message": TEXT}
        start = time.perf_counter()
        response = await http.post(f"{rasa_url}/webhooks/rest/webhook", json=body)
        response.raise_for_status()
        return time.perf_counter() - start

    return send


async def run(send: Send, conversations: int, per_conversation: int) -> tuple[list[float], float]:
    """Every conversation sends its messages one after another, all conversations at once."""
    times: list[float] = []

    async def one(http: httpx.AsyncClient) -> None:
        chat_id = next(chats)
        for _ in range(per_conversation):
            times.append(await send(http, chat_id))

    limits = httpx.Limits(max_connections=conversations + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await one(http)  # warm-up: first messages load what Rasa loads lazily
        times.clear()
        start = time.perf_counter()
        await asyncio.gather(*(one(http) for _ in range(conversations)))
        elapsed = time.perf_counter() - start
    return times, elapsed


def report(name: str, times: list[float], elapsed: float) -> tuple[float, float]:
    """Prints one line; returns p50 (ms) and messages per second."""
    p50, p99 = percentile(times, 50) * 1000, percentile(times, 99) * 1000
    rate = len(times) / elapsed
    print(f"{name:<34}{len(times):>6}{p50:>9.1f}{p99:>9.1f}{rate:>10.1f}", flush=True)
    return p50, rate


def main() -> None:
    """Starts everything, measures, prints."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="for the single conversation")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--per-conversation", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1, help="bot.worker processes")
    parser.add_argument("--rasa", type=int, default=1, help="Rasa servers behind the gateway")
    args = parser.parse_args()
    asyncio.run(bench(args))


async def bench(args: argparse.Namespace) -> None:
    """Starts the stack, measures, stops it."""
    # One simulated chat sends hundreds of messages a minute: the per-chat limit (LIMIT_CHAT,
    # issue 14) would drop them; this measures speed, bench/abuse.py the limits.
    unlimited = {"LIMIT_CHAT": "1000000/60"}
    async with running(rasa_servers=args.rasa, workers=args.workers, settings=unlimited) as stack:
        await measure(args, stack.telegram, stack.url, stack.secret, stack.rasa_urls[0])


async def measure(
    args: argparse.Namespace, telegram: TelegramStandIn, url: str, secret: str, rasa_url: str
) -> None:
    """The four runs and the comparison."""
    gateway_send = through_gateway(telegram, url, secret)
    rasa_send = through_rasa(rasa_url)
    many, per = args.conversations, args.per_conversation
    print(
        f"workers: {args.workers}; Rasa servers behind the gateway: {args.rasa}; "
        f"message: {TEXT!r} (one reply message)"
    )
    print(f"{'':<34}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'msg/s':>10}")
    g1 = report("gateway, 1 conversation", *await run(gateway_send, 1, args.messages))
    r1 = report("Rasa REST, 1 conversation", *await run(rasa_send, 1, args.messages))
    g50 = report(f"gateway, {many} conversations", *await run(gateway_send, many, per))
    r50 = report(f"Rasa REST, {many} conversations", *await run(rasa_send, many, per))
    print(
        f"gateway overhead: p50 {g1[0] / r1[0] - 1:+.0%} (1 conversation); "
        f"throughput {g50[1] / r50[1] - 1:+.0%} ({many} conversations)"
    )


if __name__ == "__main__":
    main()
