"""What a Prometheus scrape costs (bot/metrics.py): /metrics's text, with the shared gauges read
from a real Redis, when nothing waits and when the queues are as full as the gateway lets them be
(the inbound backlog's limit of received messages, a thousand replies, 500 waiting hand-offs,
a thousand dead letters).

Prints: p50/p99 of a scrape and the Redis commands it sent, for each.

Usage: .venv/bin/python bench/metrics.py [--runs 500]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.metrics import Exposition  # noqa: E402
from bot.store import (  # noqa: E402
    DEAD_LETTERS,
    INBOUND,
    INBOUND_BACKLOG,
    OUTBOUND,
    QUEUE,
    Store,
)
from bot.store.states import PRIORITY, queue_score  # noqa: E402
from tests.servers import MESSAGE_KEY, redis_server  # noqa: E402


async def fill(client: aioredis.Redis) -> None:
    """The queues as full as the gateway lets them be."""
    now = time.time()
    for stream, count in ((INBOUND, INBOUND_BACKLOG), (OUTBOUND, 1000), (DEAD_LETTERS, 1000)):
        for start in range(0, count, 1000):
            async with client.pipeline(transaction=False) as pipe:
                for n in range(start, min(count, start + 1000)):
                    pipe.xadd(stream, {"conv": f"c{n}", "seq": "1", "text": "x" * 200})
                await pipe.execute()
    risks = list(PRIORITY)
    await client.zadd(
        QUEUE, {f"c{n}": queue_score(risks[n % len(risks)], now - n) for n in range(500)}
    )


async def scrapes(exposition: Exposition, client: aioredis.Redis, runs: int) -> str:
    """p50/p99 of a scrape, and the commands each sent."""
    before = (await client.info("stats"))["total_commands_processed"]
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        await exposition.render()
        took.append((time.perf_counter() - start) * 1000)
    after = (await client.info("stats"))["total_commands_processed"]
    took.sort()
    # Less the INFO itself.
    commands = (after - before - 1) / runs
    p50, p99 = took[len(took) // 2], took[int(len(took) * 0.99)]
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {commands:.0f} Redis commands per scrape"


async def main(runs: int) -> None:
    with redis_server() as port:
        client = aioredis.Redis(port=port, decode_responses=True)
        store = Store(client, b"bench-id-secret", MESSAGE_KEY.encode(), 3600)
        exposition = Exposition(store)
        await exposition.render()
        print(f"nothing waiting:  {await scrapes(exposition, client, runs)}")  # noqa: T201
        await fill(client)
        print(f"queues full:      {await scrapes(exposition, client, runs)}")  # noqa: T201
        size = len(await exposition.render())
        print(f"exposition: {size} bytes")  # noqa: T201
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    asyncio.run(main(parser.parse_args().runs))
