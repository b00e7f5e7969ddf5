"""Reads a Redis stream in a consumer group: entries of one conversation one after another,
different conversations in parallel, and entries left by a crashed consumer taken over.

The handler acknowledges an entry itself, in the same atomic step as its effects; an entry it does
not acknowledge (an error) stays pending and is read again later. A handler whose entry must wait
for an earlier one held elsewhere raises NotYet: the consumer keeps the entry, claimed, and tries it
again shortly, or after the earlier one if that comes to this consumer (taken over). While
a handler works, its entry is claimed again every third of `reclaim_after_ms`, so no other consumer
takes over an entry that is still being handled, however slow the handler (Rasa may take minutes
through its retries). An entry whose handler fails is counted (`failed`): one that keeps failing
leaves the stream as a dead letter instead of being tried for ever and holding back its
conversation. Each consumer has its own name; consumers gone for a day with nothing pending leave
the group.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.backoff import REDIS, TURN, Backoff

log = logging.getLogger(__name__)
# A consumer that has read nothing for this long and holds no entry is removed from the group.
GONE_MS = 24 * 3600 * 1000

Entry = tuple[str, dict[str, str]]


def entry_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id as a sortable pair (milliseconds, sequence)."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


class NotYet(Exception):
    """Raised by a handler: the entry's turn has not come (an earlier one is still being handled,
    or held by a consumer that is gone until it is taken over)."""


Handler = Callable[[str, dict[str, str]], Awaitable[None]]
# Told of an entry whose handler raised: True when the entry left the stream (a dead letter).
Failure = Callable[[str, dict[str, str], Exception], Awaitable[bool]]


class Consumer:
    """One member of a consumer group on one stream."""

    def __init__(
        self,
        client: aioredis.Redis,
        stream: str,
        group: str,
        name: str,
        handle: Handler,
        failed: Failure,
        concurrency: int = 32,
        reclaim_after_ms: int = 10_000,
        gone_after_ms: int = GONE_MS,
    ) -> None:
        """`handle(entry_id, fields)` does the work and acknowledges the entry; `failed` is told
        when it raises."""
        self.redis = client
        self.stream = stream
        self.group = group
        self.name = name
        self.handle = handle
        self.failed = failed
        self.reclaim_after_ms = reclaim_after_ms
        self.gone_after_ms = gone_after_ms
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[str, deque[Entry]] = defaultdict(deque)
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued: set[str] = set()
        self._stopping = False

    async def run(self, stop: asyncio.Event) -> None:
        """Reads and dispatches until `stop` is set; survives Redis going away and coming back."""
        backoff = Backoff(*REDIS)
        first = True
        last_reclaim = 0.0
        while not stop.is_set():
            try:
                if first:
                    await self._ensure_group()
                    await self._forget_gone()
                    await self._take_up_own()
                    first = False
                if time.monotonic() - last_reclaim > self.reclaim_after_ms / 2000:
                    self._dispatch(await self._reclaim())
                    last_reclaim = time.monotonic()
                self._dispatch(await self._read(">", block_ms=500))
                backoff.reset()
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                log.warning("%s: Redis unavailable (%s); retrying", self.name, error)
                await backoff.wait()
                first = True
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                first = True
        await self.drain()

    async def drain(self) -> None:
        """Finishes the entries being handled, and hands the ones read but not started to the
        other consumers: a stopping consumer may hold thousands, and another takes them at once
        instead of waiting for it."""
        self._stopping = True
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        left = [entry_id for queue in self._queues.values() for entry_id, _ in queue]
        self._queues.clear()
        self._queued.clear()
        try:
            await self._release(left)
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            # They are taken over anyway once idle for `reclaim_after_ms`.
            log.warning("%s: %d entries not handed over (%s)", self.name, len(left), error)

    async def _release(self, left: list[str]) -> None:
        """Marks entries idle for longer than `reclaim_after_ms`: the next XAUTOCLAIM of any
        consumer takes them (a new one's first, at once). Only those this consumer still holds:
        one read long ago may have been taken over already, and must not be taken back."""
        if not left:
            return
        ordered = sorted(left, key=entry_order)
        held: set[str] = set()
        since = ordered[0]
        while True:
            found = await self.redis.xpending_range(
                self.stream, self.group, since, ordered[-1], 200, consumername=self.name
            )
            held.update(str(entry["message_id"]) for entry in found)
            if len(found) < 200:
                break
            since = f"({found[-1]['message_id']}"
        entry_ids = [entry_id for entry_id in ordered if entry_id in held]
        for start in range(0, len(entry_ids), 200):
            await self.redis.xclaim(
                self.stream,
                self.group,
                self.name,
                0,
                entry_ids[start : start + 200],
                idle=self.reclaim_after_ms * 2,
                justid=True,
            )
        log.info("%s: %d entries left for the other consumers", self.name, len(entry_ids))

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _forget_gone(self) -> None:
        """Removes from the group the consumers gone for `gone_after_ms` that hold no entry."""
        for consumer in await self.redis.xinfo_consumers(self.stream, self.group):
            if consumer["pending"] == 0 and consumer["idle"] > self.gone_after_ms:
                await self.redis.xgroup_delconsumer(self.stream, self.group, consumer["name"])

    async def _take_up_own(self) -> None:
        """What this consumer had read before a crash or restart, oldest first, page by page."""
        start = "0"
        while entries := await self._read(start):
            self._dispatch(entries)
            start = entries[-1][0]

    async def _read(self, start: str, block_ms: int | None = None) -> list[Entry]:
        found = await self.redis.xreadgroup(
            self.group, self.name, {self.stream: start}, count=200, block=block_ms
        )
        return [(entry_id, fields) for _, entries in found or [] for entry_id, fields in entries]

    async def _reclaim(self) -> list[Entry]:
        """Entries pending longer than `reclaim_after_ms` with any consumer, now ours."""
        claimed: list[Entry] = []
        start = "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.stream, self.group, self.name, self.reclaim_after_ms, start, count=200
            )
            start, entries = reply[0], reply[1]
            claimed.extend((entry_id, fields) for entry_id, fields in entries if fields)
            if start == "0-0" or not entries:
                return claimed

    def _dispatch(self, entries: list[Entry]) -> None:
        for entry_id, fields in entries:
            if entry_id in self._queued:
                continue
            conv = fields.get("conv", "")
            self._queued.add(entry_id)
            self._place(self._queues[conv], (entry_id, fields))
            if conv not in self._busy:
                self._busy.add(conv)
                task = asyncio.create_task(self._work(conv))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _place(queue: deque[Entry], entry: Entry) -> None:
        # In stream order: an entry taken over from a consumer that stopped, or one whose turn has
        # not come, goes before the conversation's later entries in hand.
        place = len(queue)
        while place and entry_order(queue[place - 1][0]) > entry_order(entry[0]):
            place -= 1
        queue.insert(place, entry)

    async def _work(self, conv: str) -> None:
        """Handles one conversation's entries in stream order."""
        queue = self._queues[conv]
        pause = Backoff(*TURN)
        try:
            while queue and not self._stopping:
                entry_id, fields = queue.popleft()
                waiting = False
                # Counting a failure takes a slot too: a burst of failing entries must not take
                # more Redis connections than a burst of working ones.
                async with self._slots:
                    if self._stopping:
                        queue.appendleft((entry_id, fields))
                        break
                    try:
                        await self._keeping_claim(entry_id, fields)
                        pause.reset()
                    except NotYet:
                        waiting = True
                    except Exception as error:
                        log.exception("%s: entry %s failed", self.name, entry_id)
                        if not await self._gone(entry_id, fields, error):
                            self._let_go(queue)
                    finally:
                        if not waiting:
                            self._queued.discard(entry_id)
                if waiting:
                    await self._wait_turn(queue, (entry_id, fields), pause)
        finally:
            self._busy.discard(conv)
            if not queue:
                self._queues.pop(conv, None)

    def _let_go(self, queue: deque[Entry]) -> None:
        # The conversation's later entries stay pending; they are read again, in order, after
        # `reclaim_after_ms`.
        self._queued.difference_update(entry_id for entry_id, _ in queue)
        queue.clear()

    async def _wait_turn(self, queue: deque[Entry], entry: Entry, pause: Backoff) -> None:
        """Puts an entry whose turn has not come back in its queue, waits a moment without a slot,
        and claims it again, so that no other consumer takes it over meanwhile."""
        self._place(queue, entry)
        await pause.wait()
        try:
            kept = await self.redis.xclaim(
                self.stream, self.group, self.name, 0, [entry[0]], justid=True
            )
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            log.warning("%s: could not keep %s claimed (%s)", self.name, entry[0], error)
            self._let_go(queue)
            return
        if not kept:  # it left the stream meanwhile: its conversation was forgotten
            queue.remove(entry)
            self._queued.discard(entry[0])

    async def _gone(self, entry_id: str, fields: dict[str, str], error: Exception) -> bool:
        """Counts the failure; whether the entry left the stream (then the conversation goes on)."""
        try:
            return await self.failed(entry_id, fields, error)
        except (RedisConnectionError, RedisTimeoutError, OSError) as unrecorded:
            log.warning("%s: failure of %s not counted (%s)", self.name, entry_id, unrecorded)
            return False

    async def _keeping_claim(self, entry_id: str, fields: dict[str, str]) -> None:
        """Runs the handler, claiming the entry again while it works."""
        work = asyncio.ensure_future(self.handle(entry_id, fields))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=self.reclaim_after_ms / 3000)
                if done:
                    work.result()
                    return
                try:
                    await self.redis.xclaim(
                        self.stream, self.group, self.name, 0, [entry_id], justid=True
                    )
                except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                    log.warning("%s: could not keep %s claimed (%s)", self.name, entry_id, error)
        finally:
            work.cancel()
