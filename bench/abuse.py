"""The public edge under a busy evening and an attacker, with the whole stack running (Redis, Rasa,
the actions, one web process, one worker).

The web process runs with the limits a hotline gets by default (bot/limits.py). Behind a proxy,
every sender has its own address: the bench plays the proxy and names the attacker's and the
people's addresses in X-Forwarded-For, which uvicorn takes from 127.0.0.1.

Attacks measured so far (issue 14 adds the others):
- open pages: PAGES web chat pages each holding its event stream open on one web process (from as
  many addresses); while they are open, new people write one after another and each waits for
  its reply. Prints how many pages held, the errors, and the new people's reply p50/p99.
- flood: FLOOD messages of 20,000 characters from one address, 20 at a time, each from a new
  chat; meanwhile people from other addresses write and wait for replies. Prints how many were
  refused, how much Redis grew, and the people's reply p50/p99.

Usage: .venv/bin/python bench/abuse.py [--pages 1000] [--people 50] [--flood 300]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis  # noqa: E402

from bench.console import percentile  # noqa: E402
from bench.stack import running  # noqa: E402
from bot.limits import DEFAULTS  # noqa: E402

addresses = itertools.count(1)


def address() -> dict[str, str]:
    """The header a proxy adds for a sender of its own address (TEST-NET-2)."""
    n = next(addresses)
    return {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}


class Page:
    """A web chat page with its event stream open."""

    def __init__(self) -> None:
        self.client = uuid.uuid4().hex
        self.headers = address()
        self.opened = asyncio.Event()
        self.replied = asyncio.Event()
        self.error = ""

    async def hold(self, http: httpx.AsyncClient) -> None:
        """Keeps the stream open until cancelled; notes the first reply and any error."""
        params = {"client": self.client, "since": "0-0"}
        try:
            stream = http.stream(
                "GET", "/chat/events", params=params, headers=self.headers, timeout=None
            )
            async with stream as events:
                if events.status_code != 200:
                    self.error = f"HTTP {events.status_code}"
                    return
                self.opened.set()
                async for line in events.aiter_lines():
                    if line.startswith("data: ") and json.loads(line[6:])["replies"]:
                        self.replied.set()
        except httpx.HTTPError as error:
            self.error = type(error).__name__
        finally:
            self.opened.set()


async def open_pages(url: str, pages: int, people: int) -> None:
    """The open-pages attack and a new person's reply during it."""
    limits = httpx.Limits(max_connections=pages + people + 10, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        held = [Page() for _ in range(pages)]
        tasks = [asyncio.create_task(page.hold(http)) for page in held]
        started = time.perf_counter()
        await asyncio.gather(*(page.opened.wait() for page in held))
        opening = time.perf_counter() - started
        errors = sum(1 for page in held if page.error)
        await asyncio.sleep(2)
        replies, failed = await new_people(http, people)
        health = (await http.get("/health")).status_code
        errors += sum(1 for page in held if page.error)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    still = pages - sum(1 for page in held if page.error)
    print(f"open pages: {still} of {pages} held open ({opening:.1f} s to open them all)")
    print(f"  errors seen by the open pages: {errors}; /health during it: {health}")
    report("a new person's reply while they were open", replies, failed, people)


async def new_people(http: httpx.AsyncClient, people: int) -> tuple[list[float], int]:
    """People who open the page and write, one after another: their reply times and failures."""
    replies, failed = [], 0
    for _ in range(people):
        person = Page()
        listening = asyncio.create_task(person.hold(http))
        await person.opened.wait()
        start = time.perf_counter()
        body = {"client": person.client, "text": "xin chào"}
        sent = await http.post("/chat/messages", json=body, headers=person.headers)
        if sent.status_code != 202:
            failed += 1
        else:
            try:
                await asyncio.wait_for(person.replied.wait(), 30)
                replies.append(time.perf_counter() - start)
            except TimeoutError:
                failed += 1
        listening.cancel()
    return replies, failed


def report(what: str, replies: list[float], failed: int, people: int) -> None:
    """One line: how many answered, and the reply p50/p99."""
    p50, p99 = percentile(replies, 50) * 1000, percentile(replies, 99) * 1000
    print(
        f"  {what}: {len(replies)} of {people} answered, {failed} failed, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 1000 ms, 0 errors)"
    )


async def flood(url: str, redis_port: int, count: int, people: int) -> None:
    """The flood attack from one address, and people's replies during it."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    before = int((await client.info("memory"))["used_memory"])
    attacker = address()
    statuses: list[int] = []
    text = "ก" * 20_000

    async def one(http: httpx.AsyncClient, n: int) -> None:
        body = {"client": uuid.uuid4().hex, "id": f"f{n}", "text": text}
        statuses.append(
            (await http.post("/chat/messages", json=body, headers=attacker)).status_code
        )

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        started = time.perf_counter()
        senders = asyncio.Semaphore(20)

        async def limited(n: int) -> None:
            async with senders:
                await one(http, n)

        attack = asyncio.gather(*(limited(n) for n in range(count)))
        replies, failed = await new_people(http, people)
        await attack
        seconds = time.perf_counter() - started
    await asyncio.sleep(5)  # what was accepted is handled (and stored) by now
    grown = (int((await client.info("memory"))["used_memory"]) - before) / 1e6
    await client.aclose()
    refused = sum(1 for status in statuses if status == 429)
    print(
        f"flood: {count} messages of 20,000 characters from one address in {seconds:.1f} s: "
        f"{refused} refused ({100 * refused / count:.0f} %; target >= 90 %), "
        f"{statuses.count(202)} accepted; Redis grew {grown:.1f} MB (target < 5 MB)"
    )
    report("people writing from other addresses during it", replies, failed, people)


async def bench(args: argparse.Namespace) -> None:
    """Starts the stack, runs the attacks, stops it."""
    limits = {"LIMIT_" + name.upper().replace("-", "_"): value for name, value in DEFAULTS.items()}
    async with running(settings=limits) as stack:
        await open_pages(stack.url, args.pages, args.people)
        await flood(stack.url, stack.redis_port, args.flood, args.people)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--flood", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
