"""The outbox of envelopes to partner hotlines (issue 20), against a real Redis: each envelope is
taken by one process at a time, one a dead process held is taken again after the lease, a failure
waits longer each time, and a delivered one leaves."""

from __future__ import annotations

import time

import pytest

from bot.store import Store
from bot.store import referrals as referral_store
from bot.store.keys import OUTBOX, OUTBOX_ITEMS

pytestmark = pytest.mark.asyncio


async def test_one_process_takes_an_envelope_and_a_dead_ones_is_taken_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.post("e1", "kh-hotline", {"type": "referral"}, {})
    [(taken, item)] = await store.due()
    assert taken == "e1" and item["partner"] == "kh-hotline"
    assert await store.due() == [], "held by the first process"

    later = time.time() + referral_store.LEASE_SECONDS + 1
    monkeypatch.setattr(referral_store, "now", lambda: later)
    [(again, _)] = await store.due()
    assert again == "e1", "the process that took it died: taken again after the lease"


async def test_a_failure_waits_longer_each_time_and_a_delivered_envelope_leaves(
    store: Store,
) -> None:
    await store.post("e2", "kh-hotline", {"type": "status"}, {})
    [(_, item)] = await store.due()
    first = await store.post_later("e2", item, "503 busy")
    [(_, item)] = [(i, x) for i, x in await store.waiting_envelopes() if i == "e2"]
    assert item["attempts"] == 1 and item["error"] == "503 busy"
    second = await store.post_later("e2", item, "503 busy")
    assert second == 2 * first
    await store.posted("e2")
    assert not await store.redis.hexists(OUTBOX_ITEMS, "e2")
    assert await store.redis.zscore(OUTBOX, "e2") is None
