"""Reading a stream in a consumer group (bot/consumer.py) against a real Redis: several consumers
share the work and handle each entry once; a slow handler keeps its entry; gone consumers leave."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import redis.asyncio as aioredis

from bot.consumer import GONE_MS, Consumer, NotYet
from tests.waiting import until_async

pytestmark = pytest.mark.asyncio
STREAM, GROUP = "test:stream", "test-group"


def consumer(
    client: aioredis.Redis,
    name: str,
    handled: Counter[str],
    pause: float = 0.0,
    gone: int = GONE_MS,
    reclaim: int = 300,
) -> Consumer:
    async def handle(entry_id: str, fields: dict[str, str]) -> None:
        handled[entry_id] += 1
        await asyncio.sleep(pause)
        await client.xack(STREAM, GROUP, entry_id)
        await client.xdel(STREAM, entry_id)

    async def failed(entry_id: str, fields: dict[str, str], error: Exception) -> bool:
        return False

    return Consumer(
        client, STREAM, GROUP, name, handle, failed, reclaim_after_ms=reclaim, gone_after_ms=gone
    )


async def run_until_empty(consumers: list[Consumer], client: aioredis.Redis) -> None:
    stop = asyncio.Event()
    running = [asyncio.create_task(c.run(stop)) for c in consumers]
    try:

        async def empty() -> bool:
            return int(await client.xlen(STREAM)) == 0

        await until_async(empty, what="every entry to be handled")
    finally:
        stop.set()
        await asyncio.gather(*running)


async def test_two_consumers_share_the_work_and_handle_each_entry_once(redis_port: int) -> None:
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    ids = [await client.xadd(STREAM, {"conv": f"c{n % 20}", "n": n}) for n in range(300)]
    handled: Counter[str] = Counter()
    await run_until_empty(
        [consumer(client, "one", handled, 0.001), consumer(client, "two", handled, 0.001)], client
    )
    assert set(handled) == set(ids) and set(handled.values()) == {1}
    await client.aclose()


async def test_a_stopping_consumer_finishes_what_it_handles_and_hands_over_the_rest(
    redis_port: int,
) -> None:
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    ids = [await client.xadd(STREAM, {"conv": f"c{n % 5}"}) for n in range(100)]
    stopping: Counter[str] = Counter()
    taking_over: Counter[str] = Counter()
    # Entries are taken over after a minute: longer than the test waits for the second consumer,
    # so it gets them only if the first one hands them over.
    stop = asyncio.Event()
    first = asyncio.create_task(consumer(client, "old", stopping, 0.05, reclaim=60_000).run(stop))
    await until_async(lambda: bool(stopping), what="the first consumer to be at work")
    stop.set()
    await first
    finished = set(stopping)
    assert set(stopping.values()) == {1} and 0 < len(finished) < 100
    assert (await client.xpending(STREAM, GROUP))["pending"] == 100 - len(finished)
    await run_until_empty([consumer(client, "new", taking_over, reclaim=60_000)], client)
    assert finished.isdisjoint(taking_over) and set(taking_over.values()) == {1}
    assert finished | set(taking_over) == set(ids)
    await client.aclose()


async def test_a_slow_handler_keeps_its_entry_from_the_others(redis_port: int) -> None:
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    [entry] = [await client.xadd(STREAM, {"conv": "slow"})]
    slow: Counter[str] = Counter()
    other: Counter[str] = Counter()
    # The slow one reads first and takes 5 times the time after which entries are taken over;
    # then it stops reading (it only finishes what it holds), so only its handler keeps the claim.
    slow_stop, stop = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(consumer(client, "slow", slow, pause=1.5).run(slow_stop))
    await until_async(lambda: bool(slow), what="the slow consumer to start on its entry")
    slow_stop.set()
    second = asyncio.create_task(consumer(client, "other", other).run(stop))

    async def handled() -> bool:
        return int(await client.xlen(STREAM)) == 0

    await until_async(handled, what="the slow handler to finish")
    stop.set()
    await asyncio.gather(first, second)
    assert slow[entry] == 1 and other[entry] == 0, "nobody took it over while it was handled"
    await client.aclose()


async def test_consumers_gone_for_a_day_with_nothing_pending_leave_the_group(
    redis_port: int,
) -> None:
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    await client.xgroup_createconsumer(STREAM, GROUP, "gone")
    await client.xadd(STREAM, {"conv": "held"})
    await client.xreadgroup(GROUP, "holding", {STREAM: ">"})
    # Idle longer than `gone` (5 ms) below.
    await asyncio.sleep(0.01)
    stop = asyncio.Event()
    fresh = asyncio.create_task(consumer(client, "fresh", Counter(), gone=5).run(stop))

    async def gone_left() -> bool:
        names = {c["name"] for c in await client.xinfo_consumers(STREAM, GROUP)}
        return "fresh" in names and "gone" not in names

    await until_async(gone_left, what="the consumer gone for long to leave the group")
    stop.set()
    await fresh
    names = {c["name"] for c in await client.xinfo_consumers(STREAM, GROUP)}
    assert "gone" not in names, "idle with nothing pending: removed"
    assert "holding" in names, "it still holds an entry: kept"
    await client.aclose()


async def test_an_older_entry_taken_over_goes_before_the_ones_in_hand(redis_port: int) -> None:
    """A consumer that stopped holds a conversation's first entry; a live one has read the rest.
    The first, once taken over, is handled before the others in hand, not after each of them
    has waited for it in turn (as the router's Store.wait_turn waits)."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    ids = [await client.xadd(STREAM, {"conv": "c"}) for _ in range(5)]
    await client.xreadgroup(GROUP, "gone", {STREAM: ">"}, count=1)
    calls: list[str] = []
    done: list[str] = []

    async def handle(entry_id: str, fields: dict[str, str]) -> None:
        calls.append(entry_id)
        for _ in range(15):  # its turn: every earlier entry done, else left pending
            if done == ids[: ids.index(entry_id)]:
                done.append(entry_id)
                await client.xack(STREAM, GROUP, entry_id)
                await client.xdel(STREAM, entry_id)
                return
            await asyncio.sleep(0.1)

    async def failed(entry_id: str, fields: dict[str, str], error: Exception) -> bool:
        return False

    live = Consumer(client, STREAM, GROUP, "live", handle, failed, reclaim_after_ms=1000)
    await run_until_empty([live], client)
    assert done == ids
    assert calls[:2] == [ids[1], ids[0]], f"the taken-over entry waited behind others: {calls}"
    await client.aclose()


async def test_an_entry_whose_turn_has_not_come_is_kept_claimed_and_tried_again(
    redis_port: int,
) -> None:
    """A conversation's second entry comes to one consumer while another still handles the first:
    it is kept, claimed, tried again every moment, and handled as soon as the first is done, not
    left pending until it would be taken over (a minute here)."""
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    first, second = [await client.xadd(STREAM, {"conv": "c"}) for _ in range(2)]
    await client.xreadgroup(GROUP, "elsewhere", {STREAM: ">"}, count=1)
    done: list[str] = []
    calls: Counter[str] = Counter()
    failures: list[Exception] = []

    async def handle(entry_id: str, fields: dict[str, str]) -> None:
        calls[entry_id] += 1
        if entry_id == second and first not in done:
            raise NotYet
        done.append(entry_id)
        await client.xack(STREAM, GROUP, entry_id)
        await client.xdel(STREAM, entry_id)

    async def failed(entry_id: str, fields: dict[str, str], error: Exception) -> bool:
        failures.append(error)
        return False

    stop = asyncio.Event()
    live = Consumer(client, STREAM, GROUP, "live", handle, failed, reclaim_after_ms=60_000)
    running = asyncio.create_task(live.run(stop))
    try:
        await until_async(lambda: calls[second] >= 4, what="the second entry to be tried again")
        [held] = await client.xpending_range(STREAM, GROUP, second, second, 1)
        assert held["consumer"] == "live" and held["time_since_delivered"] < 1500, held
        done.append(first)  # the other consumer finishes the first
        await client.xack(STREAM, GROUP, first)
        await client.xdel(STREAM, first)
        await until_async(lambda: second in done, what="the second entry to be handled")
    finally:
        stop.set()
        await running
    assert not failures, "waiting for its turn is not a failure"
    assert (await client.xpending(STREAM, GROUP))["pending"] == 0
    await client.aclose()
