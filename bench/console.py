"""The operator console under load, with the whole stack running (Redis, Rasa, actions, the web
process, a worker, a stand-in Telegram API) and 50 operators' consoles open (server-sent events).

Prints, p50/p99:
- hand-off -> console: from a person's message (Telegram webhook) that asks for a person until the
  console's event reaches every open console, and until the queue part of the page, fetched on
  that event as the page's script does, lists the conversation;
- danger while waiting: from the same person's next message, "help, they are beating me"
  (Telegram webhook), until the emergency numbers reach the stand-in Telegram, and until the
  danger alert reaches every open console;
- reply -> channel: from an operator's reply (POST) until the stand-in Telegram receives it;
- the queue page rendered with 500 conversations waiting.

Usage: .venv/bin/python bench/console.py [--operators 50] [--handoffs 30] [--waiting 500]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
import time
from pathlib import Path

import httpx
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import running  # noqa: E402
from bot.privacy import conversation_id  # noqa: E402
from bot.store import Outcome, Received, Store, conversation_key  # noqa: E402
from handoff import accounts  # noqa: E402
from handoff.accounts import Role  # noqa: E402
from tests.standins.telegram_api import TelegramStandIn  # noqa: E402

PASSWORD = "bench password of the console"
ASK_FOR_A_PERSON = "ขอคุยกับเจ้าหน้าที่"
IN_DANGER = "ช่วยด้วย เขาตีผมแล้วขังผมไว้ในห้อง"
chats = itertools.count(800_000)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(name: str, seconds: list[float]) -> None:
    """One line: count, p50 and p99 in milliseconds."""
    p50, p99 = percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000
    print(f"{name:<48}{len(seconds):>6}{p50:>9.1f}{p99:>9.1f}", flush=True)


class Console:
    """One operator's signed-in console: an HTTP client and its open event stream."""

    def __init__(self, url: str, name: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)
        self.name = name
        self.csrf = ""
        self.seen: dict[str, float] = {}
        self.alerted: dict[str, float] = {}
        self.arrived = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        form = await self.http.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token
        data = {"user": self.name, "password": PASSWORD, "csrf": token.group(1)}
        done = await self.http.post("/console/login", data=data)
        assert done.status_code == 303, done.text
        page = await self.http.get("/console")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found
        self.csrf = found.group(1)

    async def listen(self) -> None:
        async with self.http.stream("GET", "/console/events", timeout=None) as events:
            async for line in events.aiter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event.get("kind") == "queued":
                        self.seen.setdefault(event["conv"], time.perf_counter())
                        self.arrived.set()
                    if event.get("kind") == "danger" and event.get("alert"):
                        self.alerted.setdefault(event["conv"], time.perf_counter())


async def measure(
    args: argparse.Namespace, url: str, store: Store, telegram: TelegramStandIn, secret: str
) -> None:
    """Signs the operators in, opens their consoles, and runs the three measurements."""
    consoles = [Console(url, f"bench{n}") for n in range(args.operators)]
    for console in consoles:
        await accounts.create(store.redis, console.name, PASSWORD, Role.SUPERVISOR)
        await console.login()
        console.task = asyncio.create_task(console.listen())
    await asyncio.sleep(1)
    print(f"{args.operators} operators with the console open")
    print(f"{'':<48}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}")

    to_console: list[float] = []
    to_page: list[float] = []
    to_channel: list[float] = []
    numbers: list[float] = []
    alerted: list[float] = []
    first = consoles[0]
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    webhook = httpx.AsyncClient(base_url=url, timeout=30)
    for n in range(args.handoffs + 1):
        if n == 1:  # the first round warms up what Rasa and the pages load lazily
            for figures in (to_console, to_page, to_channel, numbers, alerted):
                figures.clear()
        chat = next(chats)
        conv = conversation_id(store.id_secret, "telegram", str(chat))
        update = telegram.text_update(chat, ASK_FOR_A_PERSON)
        start = time.perf_counter()
        (await webhook.post("/telegram/webhook", json=update, headers=headers)).raise_for_status()
        deadline = start + 30
        while not all(conv in c.seen for c in consoles):
            assert time.perf_counter() < deadline, "the hand-off never reached every console"
            await asyncio.sleep(0.001)
        to_console += [c.seen[conv] - start for c in consoles]
        queue = await first.http.get("/console/queue")
        assert conv in queue.text
        to_page.append(time.perf_counter() - start)

        before = len(telegram.sent(chat))
        update = telegram.text_update(chat, IN_DANGER)
        start = time.perf_counter()
        (await webhook.post("/telegram/webhook", json=update, headers=headers)).raise_for_status()
        arrived = None
        while arrived is None or not all(conv in c.alerted for c in consoles):
            assert time.perf_counter() < start + 30, "no numbers or no alert for danger"
            if arrived is None and len(telegram.sent(chat)) > before:
                arrived = time.perf_counter()
                assert "☎ 191" in telegram.sent(chat)[-1]["text"], "the emergency numbers"
            await asyncio.sleep(0.001)
        numbers.append(arrived - start)
        alerted += [c.alerted[conv] - start for c in consoles]

        await first.http.post(f"/console/c/{conv}/claim", data={"csrf": first.csrf})
        text = f"bench reply {chat}"
        before = len(telegram.sent(chat))
        start = time.perf_counter()
        done = await first.http.post(
            f"/console/c/{conv}/reply", data={"csrf": first.csrf, "text": text}
        )
        assert done.status_code == 303, done.status_code
        while len(telegram.sent(chat)) <= before:
            assert time.perf_counter() < start + 30, "the reply never reached the channel"
            await asyncio.sleep(0.001)
        to_channel.append(time.perf_counter() - start)
    report("hand-off -> event in every open console", to_console)
    report("hand-off -> queue part lists it (one console)", to_page)
    report("danger while waiting -> numbers at stand-in Telegram", numbers)
    report("danger while waiting -> alert in every console", alerted)
    report("operator reply -> stand-in Telegram", to_channel)

    await fill_queue(store, args.waiting)
    renders = []
    for _ in range(args.renders):
        start = time.perf_counter()
        page = await first.http.get("/console")
        renders.append(time.perf_counter() - start)
        assert page.status_code == 200
    rows = page.text.count("<tr class=")
    assert rows >= args.waiting, f"the queue lists {rows}, not the {args.waiting} waiting"
    report(f"queue page, {rows} waiting", renders)

    for console in consoles:
        assert console.task is not None
        console.task.cancel()
        await console.http.aclose()
    await webhook.aclose()


async def fill_queue(store: Store, count: int) -> None:
    """Web chat conversations that asked for a person, as the router leaves them (written straight
    to the store: going through Rasa would only make this slower)."""
    risks = ["immediate", "high", "medium", "low", None]
    for n in range(count):
        conv = store.conversation_id("web", f"bench-waiting-{n:04d}")
        handoff = {
            "reason": "screening" if risks[n % 5] else "request_human",
            "risk": risks[n % 5],
            "language": "km",
            "country": "th",
            "answers": {"q2_free_to_leave": "no", "q3_documents_kept": "yes"},
        }
        fields = {"conv": conv, "seq": "1", "channel": "web", "text": ""}
        # The store takes nothing for a conversation that does not exist (erased or expired).
        await store.redis.hset(conversation_key(conv), mapping={"channel": "web", "in_done": 0})
        outcome = Outcome("ជួយខ្ញុំផង", [], handoff, "km")
        await store.finish_inbound(Received.read("0-1", fields), outcome)


async def bench(args: argparse.Namespace) -> None:
    """Starts the stack, measures, stops it."""
    async with running() as stack:
        client = aioredis.Redis(port=stack.redis_port, decode_responses=True)
        env = stack.env
        store = Store(client, env["ID_SECRET"].encode(), env["MESSAGE_KEY"].encode(), 3600)
        try:
            await measure(args, stack.url, store, stack.telegram, stack.secret)
        finally:
            await client.aclose()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--handoffs", type=int, default=30)
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--renders", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
