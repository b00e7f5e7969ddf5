"""The public edge under a busy evening and an attacker, with the whole stack running (Redis, Rasa,
the actions, one web process, one worker).

The web process runs with the limits a hotline gets by default (bot/limits.py). Behind a proxy,
every sender has its own address: the bench plays the proxy and names the attacker's and the
people's addresses in X-Forwarded-For, which the web process believes from 127.0.0.1 only because
the bench sets FORWARDED_ALLOW_IPS=127.0.0.1 (the login attack also lies in it).

Attacks:
- open pages: PAGES web chat pages each holding its event stream open on one web process (from as
  many addresses); while they are open, new people write one after another and each waits for
  its reply. Prints how many pages held, the errors, and the new people's reply p50/p99.
- flood: FLOOD messages of 20,000 characters from one address, 20 at a time, each from a new
  chat; meanwhile people from other addresses write and wait for replies. Prints how many were
  refused, how much Redis grew, and the people's reply p50/p99.
- login: GUESSES wrong passwords at one operator's account, 25 at a time, each from a new address
  and with made-up X-Forwarded-For, X-Real-IP and browser cookies; then the operator signs in from
  their own browser. Prints how many guesses reached the password check (and so how many an hour
  can), whether the operator got in, and people's reply p50/p99 meanwhile.
- erasures: ERASURES chats, each from its own address, say "/forget" at once. Prints how long
  until all were erased, and people's reply p50/p99 meanwhile.
- chat flood: CHAT_FLOOD Telegram messages from one chat through the signed webhook. Prints how
  many were read, and what the chat was told.
- poison: POISON conversations each get an entry on the inbound stream that no worker can read
  (corrupted data, or a bug that fails every time). Prints how long until all were set aside as
  dead letters, how many of those people were told to write again, and people's reply p50/p99
  meanwhile.

Usage: .venv/bin/python bench/abuse.py [--pages 1000] [--people 50] [--flood 300]
  [--guesses 300] [--erasures 300] [--chat-flood 300] [--poison 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import secrets
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
from bot.privacy import conversation_id  # noqa: E402
from bot.store import DEAD_LETTERS, INBOUND, conversation_key  # noqa: E402
from handoff import accounts, sessions  # noqa: E402
from handoff.accounts import Role  # noqa: E402
from tests.standins.telegram_api import TelegramStandIn  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "the right one, long enough"

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
        try:
            ticket = await http.post(
                "/chat/tickets", json={"client": self.client}, headers=self.headers
            )
            if ticket.status_code != 201:
                self.error = f"HTTP {ticket.status_code}"
                return
            params = {"ticket": ticket.json()["ticket"], "since": "0-0"}
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


async def sign_in(http: httpx.AsyncClient, name: str, password: str, **headers: str) -> int:
    """One sign-in at the console, as a browser does it (the form's CSRF token first)."""
    form = CSRF.search((await http.get("/console/login", headers=headers)).text)
    assert form, "the login form"
    data = {"user": name, "password": password, "csrf": form.group(1)}
    return (await http.post("/console/login", data=data, headers=headers)).status_code


async def login(url: str, redis_port: int, guesses: int, people: int) -> None:
    """Password guesses at one account from everywhere, the operator's own sign-in after them, and
    people's replies meanwhile."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await accounts.create(client, "bench-op", PASSWORD, Role.OPERATOR)
    await client.aclose()
    operator = httpx.AsyncClient(base_url=url, timeout=30, headers=address())
    first = await sign_in(operator, "bench-op", PASSWORD)
    operator.cookies.delete(sessions.COOKIE)
    statuses: list[int] = []
    senders = asyncio.Semaphore(25)

    async def guess(n: int) -> None:
        async with senders, httpx.AsyncClient(base_url=url, timeout=60) as attacker:
            attacker.cookies.set(sessions.DEVICE_COOKIE, secrets.token_urlsafe(32))
            lies = {**address(), "X-Real-IP": f"203.0.113.{n % 250}"}
            statuses.append(await sign_in(attacker, "bench-op", f"guess {n}", **lies))

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        started = time.perf_counter()
        attack = asyncio.gather(*(guess(n) for n in range(guesses)))
        replies, failed = await new_people(http, people)
        await attack
        seconds = time.perf_counter() - started
    after = await sign_in(operator, "bench-op", PASSWORD)
    await operator.aclose()
    checked = statuses.count(401)
    window = sessions.ATTEMPT_WINDOW_SECONDS
    print(
        f"login: {guesses} wrong passwords at one account from {guesses} addresses in "
        f"{seconds:.1f} s: {checked} reached the password check, {statuses.count(429)} refused "
        f"(at most {checked * 3600 // window} an hour; target <= 5 per 15 min); the operator's "
        f"own browser: {'signed in' if after == 303 else f'HTTP {after}'} "
        f"(first sign-in {'ok' if first == 303 else first})"
    )
    report("people writing during it", replies, failed, people)


async def erasures(url: str, redis_port: int, id_secret: str, count: int, people: int) -> None:
    """Many chats asking to be forgotten at once, and people's replies meanwhile."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    chats = [uuid.uuid4().hex for _ in range(count)]
    convs = [conversation_id(id_secret.encode(), "web", chat) for chat in chats]
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        started = time.perf_counter()
        statuses = await asyncio.gather(
            *(
                http.post(
                    "/chat/messages", json={"client": chat, "text": "/forget"}, headers=address()
                )
                for chat in chats
            )
        )
        replies, failed = await new_people(http, people)
        while await client.exists(*(conversation_key(conv) for conv in convs)):
            if time.perf_counter() - started > 300:
                break
            await asyncio.sleep(0.2)
        seconds = time.perf_counter() - started
        left = await client.exists(*(conversation_key(conv) for conv in convs))
    await client.aclose()
    accepted = sum(1 for sent in statuses if sent.status_code == 202)
    print(
        f"erasures: {count} chats said /forget at once ({accepted} accepted): "
        f"{accepted - left} erased in {seconds:.1f} s, {left} left"
    )
    report("people writing during them", replies, failed, people)


async def chat_flood(
    url: str, redis_port: int, id_secret: str, secret: str, telegram: TelegramStandIn, count: int
) -> None:
    """One Telegram chat sending many messages through the webhook."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    chat = 990_001
    conv = conversation_id(id_secret.encode(), "telegram", str(chat))
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        started = time.perf_counter()
        statuses = [
            (
                await http.post(
                    "/telegram/webhook",
                    json=telegram.text_update(chat, "xin chào"),
                    headers=headers,
                )
            ).status_code
            for _ in range(count)
        ]
        seconds = time.perf_counter() - started
    await asyncio.sleep(10)
    read = int(await client.hget(conversation_key(conv), "in_seq") or 0)
    told = sum(1 for sent in telegram.sent(chat) if "⏳" in str(sent.get("text")))
    await client.aclose()
    print(
        f"chat flood: {count} Telegram messages from one chat in {seconds:.1f} s "
        f"(answers {sorted(set(statuses))}): {read} read, {count - read} dropped; "
        f"the chat was told to slow down {told} time(s) "
        f"(limit {DEFAULTS['chat']} per chat)"
    )


async def poison(url: str, redis_port: int, id_secret: str, count: int, people: int) -> None:
    """Entries no worker can read in many conversations at once, and people's replies
    meanwhile."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    chats = [uuid.uuid4().hex for _ in range(count)]
    convs = [conversation_id(id_secret.encode(), "web", chat) for chat in chats]
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for chat in chats:
            body = {"client": chat, "text": "xin chào"}
            await http.post("/chat/messages", json=body, headers=address())
        while not all(
            [await client.hget(conversation_key(conv), "out_done") == "1" for conv in convs]
        ):
            await asyncio.sleep(0.2)
        dead_before = await client.xlen(DEAD_LETTERS)
        started = time.perf_counter()
        for conv in convs:
            await client.xadd(INBOUND, {"conv": conv, "channel": "web", "text": "corrupted"})

        async def all_buried() -> float:
            while await client.xlen(DEAD_LETTERS) - dead_before < count:
                if time.perf_counter() - started > 300:
                    break
                await asyncio.sleep(0.05)
            return time.perf_counter() - started

        burying = asyncio.create_task(all_buried())
        replies, failed = await new_people(http, people)
        seconds = await burying
        buried = await client.xlen(DEAD_LETTERS) - dead_before

        async def told() -> int:
            done = [await client.hget(conversation_key(conv), "out_done") for conv in convs]
            return sum(found == "2" for found in done)

        while await told() < buried and time.perf_counter() - started < 120:
            await asyncio.sleep(0.2)
        told_seconds = time.perf_counter() - started
    print(
        f"poison: {count} unreadable entries in {count} conversations: {buried} set aside as dead "
        f"letters in {seconds:.1f} s; {await told()} of those people told to write again "
        f"(all within {told_seconds:.1f} s)"
    )
    await client.aclose()
    report("people writing meanwhile", replies, failed, people)


async def bench(args: argparse.Namespace) -> None:
    """Starts the stack, runs the attacks, stops it."""
    limits = {"LIMIT_" + name.upper().replace("-", "_"): value for name, value in DEFAULTS.items()}
    async with running(settings={**limits, "FORWARDED_ALLOW_IPS": "127.0.0.1"}) as stack:
        await open_pages(stack.url, args.pages, args.people)
        await flood(stack.url, stack.redis_port, args.flood, args.people)
        await login(stack.url, stack.redis_port, args.guesses, args.people)
        await erasures(
            stack.url, stack.redis_port, stack.env["ID_SECRET"], args.erasures, args.people
        )
        await chat_flood(
            stack.url,
            stack.redis_port,
            stack.env["ID_SECRET"],
            stack.secret,
            stack.telegram,
            args.chat_flood,
        )
        await poison(stack.url, stack.redis_port, stack.env["ID_SECRET"], args.poison, args.people)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--flood", type=int, default=300)
    parser.add_argument("--guesses", type=int, default=300)
    parser.add_argument("--erasures", type=int, default=300)
    parser.add_argument("--chat-flood", type=int, default=300)
    parser.add_argument("--poison", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
