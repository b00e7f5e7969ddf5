"""Waiting for what the servers under test will make true, instead of sleeping and hoping.

`until(condition, timeout, what)` asks the condition again every few milliseconds and returns its
first true value; past the timeout the test fails saying what it waited for. A fixed sleep is
either too short on a busy machine (a flaky test) or too long everywhere (a slow suite); a
condition is neither. Sleeps that are the behaviour under test (an outage, a server that never
answers) stay sleeps.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast, overload

T = TypeVar("T")
# Short enough that a test goes on almost as soon as the condition holds; long enough that asking
# (a Redis command, a look at a stand-in's records) costs the servers nothing worth counting.
PAUSE = 0.02
# Generous: the suite shares two cores with Rasa and everything else; a test that waits this long
# has failed anyway.
TIMEOUT = 30.0

Said = str | Callable[[], str]


def until(condition: Callable[[], T], timeout: float = TIMEOUT, what: Said = "a condition") -> T:
    """The first true value of `condition()`, asked until `timeout` seconds have passed; then the
    test fails, saying `what` (a text, or a function that says it when the wait has failed, e.g.
    with what arrived instead)."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {_said(what)}")
        time.sleep(PAUSE)


@overload
async def until_async(
    condition: Callable[[], Awaitable[T]], timeout: float = ..., what: Said = ...
) -> T: ...


@overload
async def until_async(condition: Callable[[], T], timeout: float = ..., what: Said = ...) -> T: ...


async def until_async(
    condition: Callable[[], Awaitable[T]] | Callable[[], T],
    timeout: float = TIMEOUT,
    what: Said = "a condition",
) -> T:
    """`until` inside an event loop: the condition may be a coroutine function, and the loop runs
    other tasks while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return cast(T, found)
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {_said(what)}")
        await asyncio.sleep(PAUSE)


def _said(what: Said) -> str:
    return what if isinstance(what, str) else what()
