"""Prometheus metrics (prometheus-client) of a gateway process: what this process counted
(messages in and out per channel, reply latency, limit refusals) and what every process shares,
read from Redis at each scrape (the streams' backlog and lag, waiting hand-offs by risk, dead
letters). Each process exposes its own; the shared gauges read the same from all of them.

Labels are channel names, stream names, risk levels and limit names, nothing else: never an id, an
address or a text, and a bounded number of series.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from bot.channel_names import LINE, TELEGRAM, WEB
from bot.limits import DEFAULTS as LIMITS
from bot.store import Backlog, Store

log = logging.getLogger(__name__)

CHANNELS = (WEB, TELEGRAM, LINE)
OTHER = "other"
# Besides bot/limits.py's: a message refused because too many wait to be handled (bot/app.py),
# and a console sign-in refused as one too many (handoff/sessions.py).
BACKLOG = "backlog"
SIGN_IN = "sign-in"
# From a message's arrival to its replies handed to the channel: tens of milliseconds when all is
# well, seconds under load, minutes through an outage.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
# A scrape waits this long for Redis, then answers without the shared gauges.
READ_SECONDS = 2.0

MESSAGES_IN = Counter(
    "hotline_messages_in", "Messages accepted from people (replays not counted)", ["channel"]
)
MESSAGES_OUT = Counter(
    "hotline_messages_out",
    "Replies delivered to a channel: the bot's to one message, an operator's, a reminder",
    ["channel"],
)
REPLY_SECONDS = Histogram(
    "hotline_reply_seconds",
    "From a message's arrival in the inbound stream to the bot's replies delivered",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
REFUSALS = Counter(
    "hotline_limit_refusals", "Messages or pages refused by a limit, by the limit's name", ["limit"]
)
# Every series from the start, at 0: a rate needs two scrapes of it.
for _name in (*CHANNELS, OTHER):
    MESSAGES_IN.labels(_name)
    MESSAGES_OUT.labels(_name)
    REPLY_SECONDS.labels(_name)
for _name in (*LIMITS, BACKLOG, SIGN_IN):
    REFUSALS.labels(_name)


def _channel(name: str) -> str:
    return name if name in CHANNELS else OTHER


def received(channel: str) -> None:
    """Counts a message accepted from a person."""
    MESSAGES_IN.labels(_channel(channel)).inc()


def delivered(channel: str, received_id: str) -> None:
    """Counts replies delivered; `received_id` is the inbound entry they answer ('' for none)."""
    MESSAGES_OUT.labels(_channel(channel)).inc()
    if received_id:
        arrived = int(received_id.split("-")[0]) / 1000
        REPLY_SECONDS.labels(_channel(channel)).observe(max(0.0, time.time() - arrived))


def refused(limit: str) -> None:
    """Counts a refusal by a limit of bot/limits.py, BACKLOG or SIGN_IN."""
    REFUSALS.labels(limit if limit in (*LIMITS, BACKLOG, SIGN_IN) else OTHER).inc()


class _Shared(Collector):
    """The shared gauges, as last read from Redis (none when it did not answer)."""

    def __init__(self) -> None:
        self.last: Backlog | None = None

    def collect(self) -> Iterable[Metric]:
        if self.last is None:
            return
        entries = GaugeMetricFamily(
            "hotline_stream_entries",
            "Entries waiting to be handled in a shared stream (all processes)",
            labels=["stream"],
        )
        oldest = GaugeMetricFamily(
            "hotline_stream_lag_seconds",
            "Age of the oldest entry waiting in a shared stream (0 when none waits)",
            labels=["stream"],
        )
        for stream, count in self.last.entries.items():
            entries.add_metric([stream], count)
            oldest.add_metric([stream], self.last.oldest_seconds[stream])
        handoffs = GaugeMetricFamily(
            "hotline_handoffs_waiting",
            "Hand-offs waiting for an operator, by risk",
            labels=["risk"],
        )
        for risk, count in self.last.handoffs.items():
            handoffs.add_metric([risk], count)
        dead = GaugeMetricFamily(
            "hotline_dead_letters", "Entries set aside after failing (console: Dead letters)"
        )
        dead.add_metric([], self.last.dead_letters)
        yield from (entries, oldest, handoffs, dead)


class Exposition:
    """What /metrics answers for a process using this store."""

    def __init__(self, store: Store) -> None:
        """Reads the shared gauges through the store."""
        self.store = store
        self._shared = _Shared()
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self._shared)
        self._lock = asyncio.Lock()

    async def render(self) -> bytes:
        """This process's metrics and the shared gauges, in Prometheus's text format; without
        the shared gauges while Redis does not answer."""
        async with self._lock:
            try:
                self._shared.last = await asyncio.wait_for(self.store.backlog(), READ_SECONDS)
            except (RedisError, OSError, TimeoutError) as error:
                log.warning("metrics: backlog not read (%s)", type(error).__name__)
                self._shared.last = None
            return generate_latest(REGISTRY) + generate_latest(self._registry)
