"""Entries that keep failing (bot/store/dead_letters.py) against a real Redis, with the real
router, senders and consumer: they leave the stream after a few tries instead of holding back
their conversation for ever, the person is never left in silence, and a supervisor can send them
again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.consumer import Consumer
from bot.media import MediaStore
from bot.media_storage import Folder
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.router import Router
from bot.safety import QuickExit
from bot.senders import ChannelSender, Senders
from bot.store import (
    DEAD_LETTERS,
    INBOUND,
    OUTBOUND,
    ROUTERS,
    SENDERS,
    Inbound,
    Outcome,
    Received,
    Store,
    conversation_key,
)
from bot.store.keys import DELIVERY_ATTEMPTS, FAILURES, entries_key
from bot.voices import Voices
from tests.gateway.conftest import ID_SECRET, MESSAGE_KEY
from tests.waiting import until_async

pytestmark = pytest.mark.asyncio


class Line:
    """A stand-in for LINE's servers: takes every message."""

    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []

    async def deliver(
        self, address: dict[str, Any], replies: list[dict[str, Any]], key: str
    ) -> list[str]:
        self.sent.append(replies)
        return []

    async def fetch(self, media: dict[str, Any]) -> bytes:
        return b""

    async def erase(self, address: dict[str, Any], message_ids: list[str]) -> None:
        return None

    async def close(self) -> None:
        return None


def router_of(store: Store, rasa: RasaClient, media: Path) -> Router:
    """A router with no channel to fetch media through."""
    kept = MediaStore(Folder(media), store.sealer)
    return Router(store, rasa, QuickExit(), kept, {}, sounds_of(store, kept))


def senders_of(
    store: Store, channels: dict[str, ChannelSender], media: Path, attempts: int = 8
) -> Senders:
    """Senders keeping media and sounds in the folder `media`."""
    kept = MediaStore(Folder(media), store.sealer)
    return Senders(store, channels, kept, sounds_of(store, kept), attempts=attempts)


def sounds_of(store: Store, media: MediaStore) -> Voices:
    """The texts read aloud, beside the media."""
    return Voices(store.redis, media.storage, store.sealer)


async def running(consumer: Consumer, condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Runs the consumer until the condition holds."""
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await until_async(condition, what=what)
    finally:
        stop.set()
        await task


async def replies_for_line(store: Store, texts: list[str]) -> str:
    """A LINE conversation with `texts` queued as replies, one entry each; its id."""
    conv = await store.accept(Inbound("line", "U1", "e1", "hi", address={"to": "U1"}))
    assert conv is not None
    for text in texts:
        assert await store.tell(conv, [{"text": text}])
    return conv


async def test_replies_no_channel_can_send_become_a_dead_letter_and_the_rest_go_on(
    store: Store, tmp_path: Path
) -> None:
    conv = await replies_for_line(store, ["first", "second"])
    senders = senders_of(store, {}, tmp_path, attempts=1)
    consumer = Consumer(
        store.redis, OUTBOUND, SENDERS, "w1", senders.handle, senders.failed, reclaim_after_ms=60
    )

    async def both_buried() -> bool:
        return int(await store.redis.xlen(DEAD_LETTERS)) == 2

    await running(consumer, both_buried, "both replies to become dead letters")
    assert await store.redis.xlen(OUTBOUND) == 0, "nothing stays pending for ever"
    assert await store.redis.hget(conversation_key(conv), "out_done") == "2"
    letters = await store.dead_letters()
    assert [letter.conv for letter in letters] == [conv, conv]
    assert all(letter.attempts == DELIVERY_ATTEMPTS for letter in letters)
    assert all("no sender for channel 'line'" in letter.error for letter in letters)
    assert all(letter.channel == "line" and letter.stream == "replies" for letter in letters)
    assert not await store.redis.exists(FAILURES), "counts of buried entries go with them"

    # A supervisor sends the oldest one again once LINE is configured: it arrives, once.
    line = Line()
    senders = senders_of(store, {"line": line}, tmp_path)
    consumer = Consumer(store.redis, OUTBOUND, SENDERS, "w2", senders.handle, senders.failed)
    oldest = letters[-1].id
    assert await store.retry(oldest) == 1
    assert await store.retry(oldest) == 0, "a second press sends nothing twice"

    async def delivered() -> bool:
        return bool(line.sent)

    await running(consumer, delivered, "the retried reply to be delivered")
    assert line.sent == [[{"text": "first"}]]
    assert [letter.id for letter in await store.dead_letters()] == [letters[0].id]


async def test_a_malformed_message_is_set_aside_at_once_and_the_person_is_told(
    store: Store, tmp_path: Path
) -> None:
    conv = await store.accept(Inbound("web", "c" * 32, "c1", "hello"))
    assert conv is not None
    [(entry_id, fields)] = await store.redis.xrange(INBOUND)
    await store.finish_inbound(Received.read(entry_id, fields), Outcome("hello", language="vi"))
    # An entry no worker can read (no sequence number): trying it again would never help.
    await store.redis.xadd(INBOUND, {"conv": conv, "channel": "web", "text": "garbage"})
    rasa = RasaClient(["http://127.0.0.1:9"], attempts=1)
    router = router_of(store, rasa, tmp_path)
    consumer = Consumer(store.redis, INBOUND, ROUTERS, "w1", router.handle, router.failed)

    async def buried() -> bool:
        return int(await store.redis.xlen(DEAD_LETTERS)) == 1

    try:
        await running(consumer, buried, "the malformed entry to become a dead letter")
    finally:
        await rasa.close()
    [letter] = await store.dead_letters()
    assert letter.attempts == 1 and letter.stream == "received"
    told = [f for _, f in await store.redis.xrange(OUTBOUND) if f.get("conv") == conv]
    [reply] = [store.sealer.open(f["replies"]) for f in told]
    assert "Xin lỗi" in reply[0]["text"] and "113" in reply[0]["text"], reply
    assert await store.redis.xlen(INBOUND) == 0


async def test_forget_me_erases_dead_letters_too(store: Store, tmp_path: Path) -> None:
    conv = await replies_for_line(store, ["first"])
    senders = senders_of(store, {}, tmp_path, attempts=1)
    [(entry_id, fields)] = [e for e in await store.redis.xrange(OUTBOUND) if e[1]["conv"] == conv]
    for _ in range(DELIVERY_ATTEMPTS):
        await senders.failed(entry_id, fields, RuntimeError("no sender"))
    assert await store.redis.xlen(DEAD_LETTERS) == 1
    await store.forget(conv)
    assert await store.redis.xlen(DEAD_LETTERS) == 0
    assert not await store.redis.exists(entries_key(conv))


async def test_an_outage_of_rasa_never_makes_a_dead_letter(store: Store, tmp_path: Path) -> None:
    conv = await store.accept(Inbound("web", "d" * 32, "d1", "help"))
    [(entry_id, fields)] = await store.redis.xrange(INBOUND)
    rasa = RasaClient(["http://127.0.0.1:9"], attempts=1)
    router = router_of(store, rasa, tmp_path)
    try:
        for _ in range(DELIVERY_ATTEMPTS + 1):
            with pytest.raises(RasaUnavailable):
                await router.handle(entry_id, fields)
            assert not await router.failed(entry_id, fields, RasaUnavailable("away"))
    finally:
        await rasa.close()
    assert await store.redis.xlen(INBOUND) == 1 and not await store.redis.xlen(DEAD_LETTERS)
    assert not await store.redis.exists(FAILURES)
    assert conv is not None and await store.redis.hget(conversation_key(conv), "in_done") == "0"


async def test_a_burst_of_failing_entries_takes_no_more_connections_than_working_ones(
    store: Store, tmp_path: Path
) -> None:
    convs = []
    for n in range(100):
        conv = await store.accept(Inbound("web", f"{n:032x}", f"burst-{n}", "hi"))
        assert conv is not None
        convs.append(conv)
    for entry_id, fields in await store.redis.xrange(INBOUND):
        await store.finish_inbound(Received.read(entry_id, fields), Outcome("hi"))
    # A pool of 8 connections and 4 handlers at once: counting 100 failures at once would need
    # 100 connections, and each one refused would leave its entry pending for a minute.
    port = store.redis.connection_pool.connection_kwargs["port"]
    small = aioredis.Redis(port=port, decode_responses=True, max_connections=8)
    narrow = Store(small, ID_SECRET, MESSAGE_KEY, ttl=3600)
    rasa = RasaClient(["http://127.0.0.1:9"], attempts=1)
    router = router_of(narrow, rasa, tmp_path)
    consumer = Consumer(
        small,
        INBOUND,
        ROUTERS,
        "w1",
        router.handle,
        router.failed,
        concurrency=4,
        reclaim_after_ms=60_000,
    )
    for conv in convs:
        await store.redis.xadd(INBOUND, {"conv": conv, "channel": "web", "text": "corrupted"})

    async def all_buried() -> bool:
        return int(await store.redis.xlen(DEAD_LETTERS)) == len(convs)

    try:
        await running(consumer, all_buried, "every failing entry to become a dead letter")
    finally:
        await rasa.close()
        await small.aclose()
