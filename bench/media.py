"""Photos from Telegram to an open console, with the whole stack running (Redis, Rasa, actions, the
web process, a worker, the stand-in Telegram API) and an operator's console open on the person's
conversation (server-sent events).

Each round a person who waits for an operator sends a 5 MB photo (webhook). Measured, from the
POST of the update: until the console's event for it arrives, and until the console has the photo
(the live part of the page fetched on that event, as its script does, then the image itself).
The worker meanwhile fetched it from the stand-in (getFile), decoded and re-encoded it without its
metadata, encrypted and wrote it. Also printed: the bytes of the photo's transcript line in Redis
(sealed; it holds only the reference) beside those of a text message of the same person.

Usage: .venv/bin/python bench/media.py [--photos 30] [--megabytes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.console import PASSWORD, Console, percentile  # noqa: E402
from bench.stack import running  # noqa: E402
from bot.privacy import conversation_id  # noqa: E402
from bot.store import conversation_key  # noqa: E402
from bot.store.keys import transcript_key  # noqa: E402
from handoff import accounts  # noqa: E402
from handoff.accounts import Role  # noqa: E402

ASK_FOR_A_PERSON = "ขอคุยกับเจ้าหน้าที่"
chats = itertools.count(950_000)


def photo(megabytes: float) -> bytes:
    """A camera-like JPEG of about `megabytes` (noise does not compress)."""
    side = 1000
    while True:
        noise = random.randbytes(side * side * 3)
        image = Image.frombytes("RGB", (side, side), noise)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        if out.tell() >= megabytes * 1024 * 1024:
            return out.getvalue()
        side = int(side * 1.25)


class OpenConsole(Console):
    """An operator's console with a conversation's page open: when each "message" event came."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__(url, name)
        self.events: dict[str, list[float]] = {}
        self.changed = asyncio.Event()

    async def listen(self) -> None:
        try:
            async with self.http.stream("GET", "/console/events", timeout=None) as events:
                async for line in events.aiter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        if event.get("kind") == "message":
                            self.events.setdefault(event["conv"], []).append(time.perf_counter())
                            self.changed.set()
        except httpx.HTTPError:
            return  # the web process stopped at the end


async def main(args: argparse.Namespace) -> None:
    """Runs the stack and the rounds; prints the figures."""
    sent = photo(args.megabytes)
    print(f"photo: {len(sent) / 1024 / 1024:.1f} MB JPEG")
    with tempfile.TemporaryDirectory() as media:
        async with running(settings={"MEDIA_DIR": media}) as stack:
            client = aioredis.Redis(port=stack.redis_port, decode_responses=True)
            console = OpenConsole(stack.url, "media-bench")
            await accounts.create(client, console.name, PASSWORD, Role.SUPERVISOR)
            await console.login()
            listening = asyncio.create_task(console.listen())
            webhook = httpx.AsyncClient(base_url=stack.url, timeout=60)
            headers = {"X-Telegram-Bot-Api-Secret-Token": stack.secret}
            id_secret = stack.env["ID_SECRET"].encode()
            to_event: list[float] = []
            to_shown: list[float] = []
            photo_bytes: list[int] = []
            text_bytes: list[int] = []

            async def post(update: dict[str, object]) -> float:
                start = time.perf_counter()
                done = await webhook.post("/telegram/webhook", json=update, headers=headers)
                done.raise_for_status()
                return start

            async def handled(conv: str, count: int) -> None:
                key = conversation_key(conv)
                while int(await client.hget(key, "in_done") or 0) < count:
                    await asyncio.sleep(0.005)

            for n in range(args.photos + 1):
                chat = next(chats)
                conv = conversation_id(id_secret, "telegram", str(chat))
                await post(stack.telegram.text_update(chat, ASK_FOR_A_PERSON))
                await handled(conv, 1)
                assert await client.hget(conversation_key(conv), "state") == "waiting"
                await console.http.get(f"/console/c/{conv}")
                await post(stack.telegram.text_update(chat, "ผมส่งรูปสัญญาให้ดูนะครับ"))
                await handled(conv, 2)
                text_line = await client.lindex(transcript_key(conv), -1) or ""

                # The text's event first: the photo's is the one after it.
                while not console.events.get(conv):
                    console.changed.clear()
                    await asyncio.wait_for(console.changed.wait(), 60)
                seen = len(console.events[conv])
                start = await post(stack.telegram.photo_update(chat, sent))
                while len(console.events[conv]) <= seen:
                    assert time.perf_counter() < start + 60, "no console event for the photo"
                    console.changed.clear()
                    await asyncio.wait_for(console.changed.wait(), 60)
                arrived = console.events[conv][seen] - start
                live = await console.http.get(f"/console/c/{conv}/live")
                [src] = re.findall(r'<img src="([^"]+/media/[^"]+)"', live.text)
                image = await console.http.get(src)
                assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
                shown = time.perf_counter() - start
                photo_line = await client.lindex(transcript_key(conv), -1) or ""
                if n == 0:  # the first round warms up what Rasa and the pages load lazily
                    continue
                to_event.append(arrived)
                to_shown.append(shown)
                text_bytes.append(len(text_line))
                photo_bytes.append(len(photo_line))
            listening.cancel()
            await console.http.aclose()
            await webhook.aclose()
            await client.aclose()

    print(f"{'':<52}{'n':>5}{'p50 ms':>9}{'p99 ms':>9}")
    for name, seconds in (
        ("photo (webhook) -> event in the open console", to_event),
        ("photo (webhook) -> the console has the image", to_shown),
    ):
        p50, p99 = percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000
        print(f"{name:<52}{len(seconds):>5}{p50:>9.0f}{p99:>9.0f}")
    print(
        f"Redis bytes of a message's transcript line (sealed): photo, a reference only, "
        f"{max(photo_bytes)} max; the text before it {max(text_bytes)} max"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--megabytes", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
