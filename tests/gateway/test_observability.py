"""Health, readiness and metrics of the running processes (bot/probes.py, bot/metrics.py): every
process alive and ready, metrics only on the internal ports, counts that move when people write,
and nothing in them that names a person, a chat or what was said."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.limits import DEFAULTS as LIMITS
from bot.store.states import PRIORITY
from tests.gateway.conftest import Stack
from tests.gateway.test_pipeline import Page, expect_every_reply, send_all
from tests.servers import wait_http
from tests.waiting import until

pytestmark = pytest.mark.servers

# Every label the project's metrics may carry, and the values each may take (`le` is the
# histogram's buckets).
LABELS = {
    "channel": {"web", "telegram", "line", "other"},
    "stream": {"inbound", "outbound"},
    "risk": {*PRIORITY, "other"},
    "limit": {*LIMITS, "backlog", "sign-in", "other"},
}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> tuple[str, Samples]:
    """The exposition of an internal port, and its samples by name and labels."""
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def worker_url(stack: Stack) -> str:
    """The internal port of the stack's worker, once it listens."""
    (worker,) = stack.running_workers()
    url = stack.worker_urls[worker.pid]
    assert wait_http(f"{url}/health", 60), "the worker's internal port did not answer"
    return url


def test_every_process_is_alive_and_ready_and_metrics_stay_internal(stack: Stack) -> None:
    for url in (stack.url, stack.metrics_url, worker_url(stack)):
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}, url
    assert httpx.get(f"{stack.url}/ready").json() == {"status": "ready", "redis": "ok"}
    assert httpx.get(f"{stack.metrics_url}/ready").json() == {"status": "ready", "redis": "ok"}
    ready = httpx.get(f"{worker_url(stack)}/ready", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "redis": "ok", "rasa": "ok"}
    assert httpx.get(f"{stack.url}/metrics").status_code == 404
    # The internal port serves its three paths and nothing of the public app.
    assert httpx.get(f"{stack.metrics_url}/").status_code == 404
    assert httpx.get(f"{stack.metrics_url}/console").status_code == 404


def test_counts_move_when_people_write_and_name_no_one(stack: Stack) -> None:
    clients = [uuid.uuid4().hex for _ in range(5)]
    count = 4
    _, web_before = scrape(stack.metrics_url)
    _, worker_before = scrape(worker_url(stack))

    asyncio.run(send_all(stack, clients, count))
    expect_every_reply(stack, clients, count, seconds=120)
    # Someone in danger: an immediate hand-off waits for an operator.
    page = Page(stack)
    page.say("cuu toi voi, ho nhot toi trong phong")

    sent = len(clients) * count + 1
    web_text, web_after = scrape(stack.metrics_url)

    def counted() -> tuple[str, Samples] | None:
        # The senders count a reply just after the page's stream has it.
        found = scrape(worker_url(stack))
        out = value(found[1], "hotline_messages_out_total", channel="web")
        return (
            found
            if out >= value(worker_before, "hotline_messages_out_total", channel="web") + sent
            else None
        )

    counted_all = until(counted, what="the worker to count every reply")
    assert counted_all is not None
    worker_text, worker_after = counted_all

    def grew(before: Samples, after: Samples, name: str) -> float:
        return value(after, name, channel="web") - value(before, name, channel="web")

    assert grew(web_before, web_after, "hotline_messages_in_total") == sent
    assert grew(worker_before, worker_after, "hotline_messages_out_total") == sent
    assert grew(worker_before, worker_after, "hotline_reply_seconds_count") == sent
    assert grew(worker_before, worker_after, "hotline_reply_seconds_sum") > 0
    # The shared gauges read the same from both processes.
    for samples in (web_after, worker_after):
        assert value(samples, "hotline_handoffs_waiting", risk="immediate") == 1
        assert value(samples, "hotline_stream_entries", stream="inbound") == 0
        assert value(samples, "hotline_dead_letters") == 0

    said = ["ขอบคุณครับ", "cuu toi", "phong"]
    ids = [*clients, page.client, *(stack.conv(c) for c in [*clients, page.client])]
    for text in (web_text, worker_text):
        for secret in (*said, *ids):
            assert secret not in text
    for samples in (web_after, worker_after):
        for name, labels in samples:
            if not name.startswith("hotline_"):
                continue
            for label, given in labels:
                if label == "le":
                    continue
                assert label in LABELS, (name, label)
                assert given in LABELS[label], (name, label, given)
