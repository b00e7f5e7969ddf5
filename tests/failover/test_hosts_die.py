"""Hosts that die under load (issue 18; `make cluster-test`, root only): two app hosts and Redis
with three Sentinels on three more. 50 pages send 500 messages; mid-load one app host is cut off
from the network, later the Redis primary's host is killed. Every accepted message is answered
exactly once and in order; the failover time and the delays are printed, not asserted."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from pathlib import Path

from bot.store import INBOUND, OUTBOUND, ROUTERS, SENDERS
from tests.cluster import (
    DOWN_AFTER_MS,
    REDIS_HOSTS,
    Cluster,
    Load,
    answered_all,
    cluster,
    converse,
    handled,
    replies,
)
from tests.hosts import Host
from tests.servers import ROOT

CONVERSATIONS = 50
MESSAGES = 10
GAP = 2.5
CUT_APP_AT = 6.0
KILL_PRIMARY_AT = 14.0
LOGS = ROOT / "results" / "cluster-test"


def test_hosts_die_under_load_and_every_accepted_message_is_answered_once_in_order() -> None:
    with cluster(2, LOGS) as running:
        clients = [uuid.uuid4().hex for _ in range(CONVERSATIONS)]
        primary = primary_host(running)
        events: dict[str, float] = {}
        faults = threading.Thread(target=break_hosts, args=(running, primary, events))
        started = time.time()
        faults.start()
        load = asyncio.run(converse(running, clients, MESSAGES, GAP))
        faults.join()
        assert not load.refused, f"pages gave up on {len(load.refused)} messages"
        assert answered_all(running, load, clients, 240), "accepted messages not answered"
        assert running.primary_address() != primary.address, "the replica was promoted"

        admin = running.admin
        for client in clients:
            sent = sorted(number for c, number in load.accepted if c == client)
            answered = [number for number, _ in replies(admin, client)]
            assert answered == sent, f"answered {answered}, sent {sent}: not once each, in order"
            assert handled(admin, client) == len(sent)
        for stream, group in ((INBOUND, ROUTERS), (OUTBOUND, SENDERS)):
            assert admin.xpending(stream, group)["pending"] == 0, f"{group}: all acknowledged"
        report(running, load, clients, started, events, LOGS)


def primary_host(running: Cluster) -> Host:
    """The Redis host the Sentinels name as the primary."""
    address = running.primary_address()
    (host,) = [
        running.hosts[name] for name in REDIS_HOSTS if running.hosts[name].address == address
    ]
    return host


def break_hosts(running: Cluster, primary: Host, events: dict[str, float]) -> None:
    """Cuts off the first app host, later kills the primary's host, and notes when the Sentinels
    named a new primary."""
    time.sleep(CUT_APP_AT)
    running.apps[0].cut_off()
    events["app cut off"] = time.time()
    time.sleep(KILL_PRIMARY_AT - CUT_APP_AT)
    primary.kill()
    events["primary killed"] = time.time()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if running.primary_address() not in (None, primary.address):
            events["replica promoted"] = time.time()
            return
        time.sleep(0.1)


def report(
    running: Cluster,
    load: Load,
    clients: list[str],
    started: float,
    events: dict[str, float],
    logs: Path,
) -> None:
    """Prints what happened: the failover time, the delays, how often a post went elsewhere."""
    admin = running.admin
    delays: list[tuple[float, float]] = []  # (accepted, seconds to the reply)
    for client in clients:
        for number, stored in replies(admin, client):
            accepted = load.accepted[(client, number)]
            delays.append((accepted, stored - accepted))
    with open(logs / "replies.csv", "w") as table:
        table.write("accepted_s,delay_s\n")
        for accepted, delay in sorted(delays):
            table.write(f"{accepted - started:.3f},{delay:.3f}\n")
    every = sorted(delay for _, delay in delays)
    killed = events["primary killed"]
    cut = events["app cut off"]
    around_cut = [d for a, d in delays if cut - 5 <= a < killed]
    around_kill = [d for a, d in delays if killed - 5 <= a <= killed + 30]
    promoted = events.get("replica promoted", float("nan")) - killed
    print(  # noqa: T201
        f"\n== Cluster test: {len(load.accepted)} messages accepted from {len(clients)} pages, "
        f"each answered once and in order ({len(load.refused)} given up)\n"
        f"  app host cut off at {cut - started:.1f} s; Redis primary's host killed at "
        f"{killed - started:.1f} s; replica promoted {promoted:.1f} s later "
        f"(Sentinel's detection: {DOWN_AFTER_MS / 1000:.0f} s)\n"
        f"  posts that failed and went to another host: {load.failed_posts}\n"
        f"  reply delay (accepted -> answered), s: p50 {statistics.median(every):.2f}, "
        f"p99 {every[int(len(every) * 0.99) - 1]:.2f}, max {every[-1]:.2f}\n"
        f"  accepted up to 5 s before the cut: max {max(around_cut, default=0):.2f} s; "
        f"around the failover: max {max(around_kill, default=0):.2f} s\n"
        f"  logs: {logs}"
    )
