"""Two workers at once on the same stack (bot/worker.py: "Run several for more throughput; they
share the streams"): both take entries of the inbound and the outbound stream, so a conversation's
messages and replies go to whichever process reads them first, and still each message is answered
exactly once, in the order it was sent."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from functools import partial

import pytest

from bot.store import INBOUND, OUTBOUND, ROUTERS, SENDERS
from tests.gateway.conftest import Stack
from tests.gateway.test_pipeline import expect_every_reply, send_all
from tests.servers import stop
from tests.waiting import until

pytestmark = pytest.mark.servers

CONVERSATIONS = 30
MESSAGES = 10
GROUPS = ((INBOUND, ROUTERS), (OUTBOUND, SENDERS))


def members(stack: Stack, stream: str, group: str) -> set[str]:
    """The consumers of a group (none before a worker made it)."""
    if not any(found["name"] == group for found in groups(stack, stream)):
        return set()
    return {str(consumer["name"]) for consumer in stack.redis.xinfo_consumers(stream, group)}


def groups(stack: Stack, stream: str) -> list[dict[str, object]]:
    """The stream's consumer groups."""
    return list(stack.redis.xinfo_groups(stream)) if stack.redis.exists(stream) else []


def joined(stack: Stack, stream: str, group: str, names: tuple[str, ...]) -> bool:
    """Whether all these consumers are in the group (a worker joins when it starts reading)."""
    return set(names) <= members(stack, stream, group)


def holding(stack: Stack, stream: str, group: str) -> set[str]:
    """The consumers of a group that hold entries now (read, not yet acknowledged)."""
    found = stack.redis.xpending(stream, group)
    return {str(consumer["name"]) for consumer in found["consumers"] if int(consumer["pending"])}


@pytest.fixture
def two_workers(stack: Stack) -> Iterator[tuple[str, str]]:
    """The stack's worker and a second one, both in the routers' and the senders' groups."""
    (first,) = stack.running_workers()
    # A name the group has never had: it lists the new process only once that process reads.
    names = (stack.worker_names[first.pid], f"w2-{uuid.uuid4().hex[:8]}")
    second = stack.worker(names[1])
    try:
        for stream, group in GROUPS:
            until(partial(joined, stack, stream, group, names), 60, f"both workers in {group}")
        yield names
    finally:
        stop(second)


def test_two_workers_answer_every_message_once_and_in_order(
    stack: Stack, two_workers: tuple[str, str]
) -> None:
    clients = [uuid.uuid4().hex for _ in range(CONVERSATIONS)]
    # Who holds entries of each stream while the work goes on, looked at until it is done.
    seen: dict[str, set[str]] = {group: set() for _, group in GROUPS}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for stream, group in GROUPS:
                seen[group] |= holding(stack, stream, group)
            done.wait(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        asyncio.run(send_all(stack, clients, MESSAGES))
        expect_every_reply(stack, clients, MESSAGES, seconds=240)
    finally:
        done.set()
        watcher.join()

    # Otherwise one worker did everything and this proves nothing about two.
    for _, group in GROUPS:
        assert set(two_workers) <= seen[group], f"only {seen[group]} held entries of {group}"
    for stream, group in GROUPS:
        assert stack.redis.xlen(stream) == 0, f"{stream}: every entry handled and deleted"
        assert stack.redis.xpending(stream, group)["pending"] == 0, f"{group}: all acknowledged"
