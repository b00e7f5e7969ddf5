"""The reports' anonymous counts: what is counted, that replays count once, and that the tables
never show a count from 1 to 4 nor let one be worked out from a total."""

from __future__ import annotations

import random
import time
from datetime import date

import pytest

from bot import counts
from bot.store import NGOS, Inbound, Outcome, Received, Store, stats_key, waits_key
from tests.gateway.test_store import received


def test_a_day_is_a_day_in_indochina_time() -> None:
    # 17:30 UTC on 2 December is 00:30 on 3 December in Bangkok, Hanoi and Phnom Penh.
    assert counts.day(1764696600.0) == "2025-12-03"
    assert counts.day(1764696600.0 - 3600) == "2025-12-02"


def test_counters_for_everyone_and_for_the_ngo_the_person_came_through() -> None:
    fields = counts.fields("handoffs", "ngo-7", {"channel": "line", "risk": "high"})
    assert fields == [
        "handoffs|channel|line",
        "handoffs|language|unknown",  # not known, still counted
        "handoffs|country|unknown",
        "handoffs|referral|ngo-7",
        "handoffs|risk|high",
    ]
    assert counts.whom("ngo-7") == ("*", "ngo-7")
    alone = counts.fields("conversations", "", {"channel": "web", "language": "km"})
    assert alone == [
        "conversations|channel|web",
        "conversations|language|km",
        "conversations|referral|none",
    ]
    assert counts.whom("") == ("*",)


def test_small_counts_are_hidden_and_zeros_shown() -> None:
    cells, totals = counts.suppress([[12], [0], [3], [4], [9]], [28])
    assert [row[0] for row in cells] == [12, 0, None, None, 9]
    assert totals == [28]


def test_one_hidden_count_takes_the_next_smallest_with_it() -> None:
    # 20 - 12 - 5 would give the hidden 3 away: the 5 is hidden too.
    cells, totals = counts.suppress([[12], [3], [5], [0]], [20])
    assert [row[0] for row in cells] == [12, None, None, 0]
    assert totals == [20]


def test_a_small_total_is_hidden() -> None:
    cells, totals = counts.suppress([[3, 0], [1, 0]], [4, 0])
    assert cells == [[None, 0], [None, 0]]
    assert totals == [None, 0]


def test_no_hidden_count_can_be_worked_out_from_its_column() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        rows = [[rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 30]) for _ in range(3)] for _ in range(5)]
        totals = [sum(row[c] for row in rows) for c in range(3)]
        cells, shown = counts.suppress(rows, totals)
        for c in range(3):
            column = [row[c] for row in cells]
            assert all(n is None or n == 0 or n >= counts.SMALLEST for n in column)
            if shown[c] is not None:
                assert column.count(None) != 1, (rows, cells)


def test_the_median_wait_needs_five_waits() -> None:
    assert counts.median_wait([10, 20, 30, 40]) is None
    assert counts.median_wait([10, 20, 30, 40, 500]) == 30


def day(name: str, **found: int) -> counts.Day:
    return counts.Day.read(name, {k.replace("__", "|"): n for k, n in found.items()}, [])


def test_tables_by_day_and_by_dimension() -> None:
    days = [
        day(
            "2026-12-01",
            conversations__channel__web=6,
            conversations__channel__line=1,
            conversations__language__th=7,
            handoffs__channel__web=5,
            handoffs__risk__high=5,
        ),
        day("2026-12-02", conversations__channel__web=2),
    ]
    daily = counts.daily(days)
    assert daily.columns == (*counts.MEASURES, "median_wait")
    # The 2 of 2 December is hidden; the total would give it away, so the 7 goes too.
    # The three referral columns (sent, accepted, closed) hold nothing on these days.
    assert daily.rows[0] == ("2026-12-01", [None, 0, 5, 0, 0, 0, 0, None])
    assert daily.rows[1] == ("2026-12-02", [None, 0, 0, 0, 0, 0, 0, None])
    assert daily.totals == [9, 0, 5, 0, 0, 0, 0, None]
    by_channel = counts.breakdown(days, "channel")
    assert by_channel.rows == [("web", [None, 0, 5, 0]), ("line", [None, 0, 0, 0])]
    assert by_channel.totals == [9, 0, 5, 0]
    # Conversations are counted before any screening: they have no risk.
    assert counts.breakdown(days, "risk").columns == ("screenings", "handoffs", "answered")
    referrals = ["referrals_sent", "referrals_accepted", "referrals_closed"]
    assert counts.breakdown(days, "partner_country").columns == tuple(referrals)
    lines = list(counts.csv_rows(daily, "day"))
    measures = ["conversations", "screenings", "handoffs", "answered", *referrals]
    assert lines[0] == ["day", *measures, "median_wait"]
    assert lines[2] == ["2026-12-02", "<5", "0", "0", "0", "0", "0", "0", ""]


def test_every_day_of_a_period() -> None:
    assert counts.period(date(2026, 11, 29), date(2026, 12, 2)) == [
        "2026-11-29",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
    ]


@pytest.mark.asyncio
async def test_a_conversation_is_counted_once_and_an_answered_wait_is_kept(
    store: Store,
) -> None:
    await store.redis.sadd(NGOS, "ngo-9")
    for event in ("e1", "e2"):
        await store.accept(Inbound("web", "client-abcdefghijklmnop", event, "hi", referral="ngo-9"))
    opening = counts.fields("conversations", "ngo-9", {"channel": "web", "language": "th"})
    (first, second) = await received(store, 2)
    opened = counts.Tally("ngo-9", opening=tuple(opening))
    await store.finish_inbound(
        Received.read(*first), Outcome("hi", [{"text": "ok"}], None, "th", tally=opened)
    )
    entry_id, fields = second
    handoff = {"risk": "high", "reason": "screening", "country": "th"}
    asked = counts.fields("handoffs", "ngo-9", {"channel": "web", **handoff})
    for _ in range(2):  # a replay counts nothing twice
        tally = counts.Tally("ngo-9", tuple(asked), tuple(opening))
        await store.finish_inbound(
            Received.read(entry_id, fields), Outcome("help", [], handoff, "th", tally=tally)
        )
    await store.change(fields["conv"], "claim", "op1")
    today = counts.day(time.time())
    (found,) = await store.statistics([today], "ngo-9")
    assert found.total("conversations") == 1
    assert found.by("conversations", "language") == {"th": 1}
    assert found.by("handoffs", "risk") == {"high": 1}
    assert found.by("answered", "risk") == {"high": 1}
    assert found.by("answered", "country") == {"th": 1}
    assert found.by("answered", "referral") == {"ngo-9": 1}
    assert len(found.waits) == 1
    (everyone,) = await store.statistics([today])
    assert everyone.total("conversations") == 1
    assert len(everyone.waits) == 1
    keys = [key async for key in store.redis.scan_iter(f"hl:stats:{today}:*")]
    assert sorted(keys) == sorted(
        [
            stats_key(today, "*"),
            stats_key(today, "ngo-9"),
            waits_key(today, "*"),
            waits_key(today, "ngo-9"),
        ]
    )
    for key in keys:
        assert fields["conv"] not in key
        assert await store.redis.ttl(key) > 365 * 24 * 3600
