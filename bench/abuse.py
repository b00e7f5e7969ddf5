"""The public edge under a busy evening and an attacker, with the whole stack running (Redis, Rasa,
the actions, one web process, one worker).

Attacks measured so far (issue 14 adds the others):
- open pages: OPEN web chat pages each holding its event stream open on one web process; while
  they are open, new people write one after another and each waits for its reply. Prints how many
  pages held, how many errors any page or request saw, and the new people's reply p50/p99.

Usage: .venv/bin/python bench/abuse.py [--pages 1000] [--people 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.console import percentile  # noqa: E402
from bench.stack import running  # noqa: E402


class Page:
    """A web chat page with its event stream open."""

    def __init__(self) -> None:
        self.client = uuid.uuid4().hex
        self.opened = asyncio.Event()
        self.replied = asyncio.Event()
        self.error = ""

    async def hold(self, http: httpx.AsyncClient) -> None:
        """Keeps the stream open until cancelled; notes the first reply and any error."""
        params = {"client": self.client, "since": "0-0"}
        try:
            async with http.stream("GET", "/chat/events", params=params, timeout=None) as events:
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
        replies, failed = [], 0
        for _ in range(people):
            person = Page()
            listening = asyncio.create_task(person.hold(http))
            await person.opened.wait()
            start = time.perf_counter()
            body = {"client": person.client, "text": "xin chào"}
            sent = await http.post("/chat/messages", json=body)
            if sent.status_code != 202:
                failed += 1
            else:
                try:
                    await asyncio.wait_for(person.replied.wait(), 30)
                    replies.append(time.perf_counter() - start)
                except TimeoutError:
                    failed += 1
            listening.cancel()
        health = (await http.get("/health")).status_code
        errors += sum(1 for page in held if page.error)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    still = pages - sum(1 for page in held if page.error)
    print(f"open pages: {still} of {pages} held open ({opening:.1f} s to open them all)")
    print(f"  errors seen by the open pages: {errors}; /health during it: {health}")
    p50, p99 = percentile(replies, 50) * 1000, percentile(replies, 99) * 1000
    print(
        f"  a new person's reply while they were open: {len(replies)} of {people} answered, "
        f"{failed} failed, p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 1000 ms, 0 errors)"
    )


async def bench(args: argparse.Namespace) -> None:
    """Starts the stack, runs the attacks, stops it."""
    async with running() as stack:
        await open_pages(stack.url, args.pages, args.people)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--people", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
