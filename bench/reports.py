"""The supervisors' reports over a busy year: a year of counters (300 conversations a day from 30
NGOs' links and none, a screening and a hand-off for a third of them) in a real Redis, then the
report page and a CSV asked for through the console's own routes (in-process ASGI, signed in as a
supervisor).

Prints: the counters' size in Redis, and p50/max of the report page and the CSV for a whole year
and for 28 days, for everyone and for one NGO.

Usage: .venv/bin/python bench/reports.py [--days 366] [--per-day 300] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import counts  # noqa: E402
from bot.store import Store, stats_key, waits_key  # noqa: E402
from handoff import accounts, console, sessions  # noqa: E402
from handoff.accounts import Role  # noqa: E402
from tests.servers import redis_server  # noqa: E402

NGOS = [f"ngo-{n}" for n in range(30)]
CHOICES = {
    "channel": ["telegram", "line", "web"],
    "language": ["th", "vi", "km", "unknown"],
    "country": ["th", "vn", "kh", "other", "unknown"],
    "risk": ["immediate", "high", "medium", "low", "unknown"],
}


def one_day(
    rng: random.Random, per_day: int
) -> tuple[dict[str, Counter[str]], dict[str, list[int]]]:
    """A day's counters and waits by whose they are, counted as the router and console count."""
    found: dict[str, Counter[str]] = {}
    waits: dict[str, list[int]] = {}
    for _ in range(per_day):
        referral = rng.choice([*NGOS, "", "", ""])
        dims = {dim: rng.choice(values) for dim, values in CHOICES.items()}
        measures = ["conversations"]
        answered = False
        if rng.random() < 1 / 3:
            measures += ["screenings", "handoffs"]
            answered = rng.random() < 0.8
        wait_s = int(rng.expovariate(1 / 120))
        for who in counts.whom(referral):
            mine = found.setdefault(who, Counter())
            for measure in measures + (["answered"] if answered else []):
                mine.update(counts.fields(measure, referral, dims))
            if answered:
                waits.setdefault(who, []).append(wait_s)
    return found, waits


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def main(days: int, per_day: int, runs: int) -> None:
    """Fills a year, then asks for reports and prints the figures."""
    with redis_server() as port:
        await measure(port, days, per_day, runs)


async def measure(port: int, days: int, per_day: int, runs: int) -> None:
    """The figures, on a Redis at the port."""
    redis = aioredis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    store = Store(redis, b"bench-id-secret", b"A" * 43 + b"=", ttl=3600)
    rng = random.Random(1)
    last = counts.today()
    period = counts.period(last - timedelta(days=days - 1), last)
    before = int((await redis.info("memory"))["used_memory"])
    started = time.perf_counter()
    for i, day in enumerate(period):
        found, waits = one_day(rng, per_day)
        async with redis.pipeline(transaction=False) as pipe:
            for who, counters in found.items():
                pipe.hset(stats_key(day, who), mapping=dict(counters))
            for who, waited in waits.items():
                pipe.rpush(waits_key(day, who), *waited)
            await pipe.execute()
        if (i + 1) % 61 == 0 or i + 1 == len(period):
            print(f"  filled {i + 1}/{len(period)} days", flush=True)  # noqa: T201
    fields = 0
    async for key in redis.scan_iter("hl:stats:*:counts:*", count=1000):
        fields += await redis.hlen(key)
    after = int((await redis.info("memory"))["used_memory"])
    filled = time.perf_counter() - started
    print(  # noqa: T201
        f"counters: {days} days x {per_day} conversations, {fields:,} counters, "
        f"{(after - before) / 2**20:.1f} MB in Redis (filled in {filled:.1f} s)"
    )

    app = FastAPI()
    app.state.store = store
    console.install(app)
    account = await accounts.create(
        redis, "bench", "bench password of the reports", Role.SUPERVISOR
    )
    session = await sessions.start(redis, account)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={sessions.COOKIE: session.token}
    ) as client:
        year = f"first={period[0]}&last={period[-1]}"
        month = f"first={period[-28]}&last={period[-1]}"
        for name, url in [
            (f"page, {days} days, everyone", f"/console/reports?{year}"),
            (f"page, {days} days, one NGO", f"/console/reports?{year}&ngo=ngo-7"),
            ("page, 28 days, everyone", f"/console/reports?{month}"),
            (f"daily CSV, {days} days", f"/console/reports/daily.csv?{year}"),
        ]:
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(url)
                seconds.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:200]
            p50, worst = percentile(seconds, 50) * 1000, max(seconds) * 1000
            print(f"{name:32} p50 {p50:7.1f} ms   max {worst:7.1f} ms   ({runs} runs)")  # noqa: T201
    await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    asyncio.run(main(options.days, options.per_day, options.runs))
