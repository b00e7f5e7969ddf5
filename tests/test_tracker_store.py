"""The windowed Redis tracker store, against a real Redis server."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from hotline.sealer import Sealer
from rasa_plugins.lock_store import FollowingRedisLockStore
from rasa_plugins.tracker_store import WindowedRedisTrackerStore
from tests.servers import REDIS_PASSWORDS, SENTINEL_MASTER, free_port, sentinel_cluster
from tests.waiting import until

ROOT = Path(__file__).resolve().parent.parent
KEY = Fernet.generate_key().decode()


def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def turns(count: int) -> list[Event]:
    events: list[Event] = [ActionExecuted("action_listen")]
    for n in range(count):
        events += [
            UserUttered(f"message {n}", {"name": "greet", "confidence": 1.0}),
            ActionExecuted("utter_greet"),
            BotUttered(f"reply {n}"),
            ActionExecuted("action_listen"),
        ]
    return events


def store(redis_port: int, max_events: int = 40) -> WindowedRedisTrackerStore:
    return WindowedRedisTrackerStore(
        domain(),
        host="127.0.0.1",
        port=str(redis_port),
        max_events=str(max_events),
        record_exp="3600",
        key_prefix="rasa",
        message_key=KEY,
    )


def test_a_short_conversation_is_kept_whole(redis_port: int, redis_client: redis.Redis) -> None:
    tracker_store = store(redis_port)
    tracker = DialogueStateTracker.from_events("short", turns(5), domain().slots)
    asyncio.run(tracker_store.save(tracker))
    loaded = asyncio.run(tracker_store.retrieve("short"))
    assert loaded is not None and list(loaded.events) == list(tracker.events)
    assert 0 < redis_client.ttl("rasa:tracker:short") <= 3600


def test_a_long_conversation_keeps_a_window_and_its_state(
    redis_port: int, redis_client: redis.Redis
) -> None:
    tracker_store = store(redis_port, max_events=40)
    events = [
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "start_screening", "confidence": 1.0}),
        SlotSet("language", "km"),
        SlotSet("country", "th"),
        ActionExecuted("screening_form"),
        ActiveLoop("screening_form"),
        SlotSet("requested_slot", "q2_free_to_leave"),
        SlotSet("q1_danger", "no"),
        *turns(100)[1:],
    ]
    tracker = DialogueStateTracker.from_events("long", events, domain().slots)
    asyncio.run(tracker_store.save(tracker))

    stored = Sealer(KEY.encode()).open(redis_client.get("rasa:tracker:long") or "")
    assert len(stored["events"]) <= 40
    loaded = asyncio.run(tracker_store.retrieve("long"))
    assert loaded is not None
    assert loaded.get_slot("language") == "km"
    assert loaded.get_slot("country") == "th"
    assert loaded.get_slot("q1_danger") == "no"
    assert loaded.active_loop_name == "screening_form"
    assert loaded.latest_message is not None and loaded.latest_message.text == "message 99"
    user_texts = [e.text for e in loaded.events if isinstance(e, UserUttered)]
    assert user_texts == [f"message {n}" for n in range(100 - len(user_texts), 100)]


def test_the_window_stays_bounded_as_the_conversation_grows(redis_port: int) -> None:
    tracker_store = store(redis_port, max_events=40)
    tracker = DialogueStateTracker.from_events("growing", turns(1), domain().slots)
    for n in range(1, 60):
        asyncio.run(tracker_store.save(tracker))
        loaded = asyncio.run(tracker_store.retrieve("growing"))
        assert loaded is not None and len(loaded.events) <= 40
        for event in turns(1)[1:]:
            if isinstance(event, UserUttered):
                event = UserUttered(f"m{n}", event.intent)
            loaded.update(event)
        tracker = loaded


def test_trackers_are_stored_encrypted(redis_port: int, redis_client: redis.Redis) -> None:
    tracker = DialogueStateTracker.from_events("secret", turns(3), domain().slots)
    asyncio.run(store(redis_port).save(tracker))
    stored = str(redis_client.get("rasa:tracker:secret"))
    assert "message 1" not in stored and "reply 1" not in stored and "greet" not in stored
    other_key = WindowedRedisTrackerStore(
        domain(),
        port=str(redis_port),
        key_prefix="rasa",
        message_key=Fernet.generate_key().decode(),
    )
    with pytest.raises(ValueError, match="MESSAGE_KEY"):
        asyncio.run(other_key.retrieve("secret"))


def test_the_store_refuses_to_start_without_a_key() -> None:
    with pytest.raises(ValueError, match="MESSAGE_KEY"):
        WindowedRedisTrackerStore(domain(), message_key=" ")


def test_the_stores_follow_the_primary_through_a_sentinel_failover() -> None:
    """Issue 18: with REDIS_SENTINELS the tracker and lock stores ask the Sentinels for the
    primary, and find the promoted replica after the primary dies."""
    with sentinel_cluster() as (primary, primary_port, sentinel_ports):
        listed = ",".join(f"127.0.0.1:{port}" for port in sentinel_ports)
        login = {"username": "rasa", "password": REDIS_PASSWORDS["rasa"]}
        tracker_store = WindowedRedisTrackerStore(
            domain(),
            host="127.0.0.1",
            port="1",  # not used: the Sentinels say where the primary is
            key_prefix="rasa",
            message_key=KEY,
            sentinels=listed,
            master_name=SENTINEL_MASTER,
            **login,
        )
        config = EndpointConfig(
            url="127.0.0.1", port="1", key_prefix="rasa", sentinels=listed, **login
        )
        locks = FollowingRedisLockStore(config)
        before = DialogueStateTracker.from_events("failover", turns(2), domain().slots)
        asyncio.run(tracker_store.save(before))
        locks.save_lock(locks.create_lock("failover"))

        os.kill(primary.pid, signal.SIGKILL)
        after = DialogueStateTracker.from_events("failover", turns(3), domain().slots)
        until(lambda: saved(tracker_store, after), timeout=30, what="a save after the failover")

        kept = asyncio.run(tracker_store.retrieve("failover"))
        assert kept is not None and kept.latest_message.text == "message 2"
        assert locks.get_lock("failover") is not None, "the lock written before is on the replica"
        promoted = tracker_store.red.connection_pool.get_master_address()
        assert promoted[1] != primary_port


def saved(tracker_store: WindowedRedisTrackerStore, tracker: DialogueStateTracker) -> bool:
    """Whether the save went through (False while Redis fails over)."""
    try:
        asyncio.run(tracker_store.save(tracker))
    except redis.RedisError:
        return False
    return True


def lock_store(redis_port: int, ticket_seconds: float) -> FollowingRedisLockStore:
    locks = FollowingRedisLockStore(EndpointConfig(url="127.0.0.1", port=redis_port))
    locks.ticket_seconds = ticket_seconds
    return locks


def test_a_ticket_nobody_renews_ends_and_the_conversation_goes_on(redis_port: int) -> None:
    """A process that died or was cut off while it handled a message leaves its ticket: the
    conversation's next message, on another host, gets the lock once the ticket ends (within
    `ticket_seconds`), not after Rasa's minute."""
    redis.Redis(port=redis_port).flushall()
    gone, alive = lock_store(redis_port, 1.0), lock_store(redis_port, 1.0)

    async def cut_off_while_handling() -> None:
        with pytest.raises(redis.ConnectionError):
            async with gone.lock("c"):
                gone.red = redis.Redis(port=free_port())  # it reaches Redis no more

    async def next_message() -> None:
        async with alive.lock("c", wait_time_in_seconds=0.1):
            pass

    asyncio.run(cut_off_while_handling())
    asyncio.run(asyncio.wait_for(next_message(), timeout=5))


def test_a_slow_message_keeps_its_ticket_while_it_is_handled(redis_port: int) -> None:
    """The ticket of a message still being handled is renewed: the next message waits for it,
    however long it takes."""
    redis.Redis(port=redis_port).flushall()
    first, second = lock_store(redis_port, 0.6), lock_store(redis_port, 0.6)
    order: list[str] = []

    async def slow() -> None:
        async with first.lock("c", wait_time_in_seconds=0.05):
            order.append("slow starts")
            await asyncio.sleep(2.0)  # more than three times the ticket's life
            order.append("slow ends")

    async def after() -> None:
        await asyncio.sleep(0.2)
        async with second.lock("c", wait_time_in_seconds=0.05):
            order.append("next starts")

    async def both() -> None:
        await asyncio.gather(slow(), after())

    asyncio.run(both())
    assert order == ["slow starts", "slow ends", "next starts"]
