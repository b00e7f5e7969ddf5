"""The supervisors' reports against the running stack: people come through two NGOs' links, some
are answered by an operator, and the reports count them without a word or an id of theirs."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import httpx
import pytest

from bot import counts
from bot.store import NGOS, QUEUE, conversation_key
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.waiting import until

pytestmark = pytest.mark.servers

ASK_FOR_A_PERSON = "ขอคุยกับเจ้าหน้าที่"
clients = itertools.count(1)


def arrive(stack: Stack, ref: str, text: str, state: str) -> str:
    """A web chat conversation that came through `ref` and is in `state` after its message."""
    client = f"report-{next(clients)}-abcdefghijklmnop"
    sent = httpx.post(
        f"{stack.url}/chat/messages", json={"client": client, "text": text, "ref": ref}
    )
    assert sent.status_code == 202, sent.text
    conv = stack.conv(client)
    until(
        lambda: stack.redis.hget(conversation_key(conv), "in_done") == "1",
        what="the message to be handled",
    )
    assert stack.redis.hget(conversation_key(conv), "state") == state
    return conv


def table(client: httpx.Client, name: str, query: str) -> dict[str, list[str]]:
    """A report CSV, by its first column."""
    response = client.get(f"/console/reports/{name}.csv?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    return {row[0]: row[1:] for row in rows}


def test_reports_count_people_per_ngo_and_single_nobody_out(stack: Stack) -> None:
    supervisor = login(stack, make_user(stack, "supervisor"))
    page = supervisor.get("/console/ngos")
    saved = supervisor.post(
        "/console/ngos",
        data={
            "csrf": _csrf(page.text),
            "code": "rep-a",
            "name": "Harbour Friends",
            "languages": "th",
            "contact": "",
            "team": "",
        },
    )
    assert saved.status_code == 303
    stack.redis.sadd(NGOS, "rep-b")  # registered without a page: only registered codes count
    asked = [arrive(stack, "rep-a", ASK_FOR_A_PERSON, "waiting") for _ in range(6)]
    others = [arrive(stack, "rep-b", "สวัสดี", "bot") for _ in range(2)]
    operator = login(stack, make_user(stack))
    for conv in asked[:5]:
        view = operator.get(f"/console/c/{conv}")
        taken = operator.post(f"/console/c/{conv}/claim", data={"csrf": _csrf(view.text)})
        assert taken.status_code == 303
    assert all(stack.redis.zscore(QUEUE, conv) is None for conv in asked[:5])

    today = counts.today()
    query = f"first={today - timedelta(days=1)}&last={today}"
    daily = table(supervisor, "daily", f"{query}&ngo=rep-a")
    referrals = ["referrals_sent", "referrals_accepted", "referrals_closed"]
    measures = ["conversations", "screenings", "handoffs", "answered", *referrals]
    assert daily["day"] == [*measures, "median_wait"]
    conversations, screenings, handoffs, answered, *_, wait = daily["total"]
    assert (conversations, screenings, handoffs, answered) == ("6", "0", "6", "5")
    assert wait.isdigit()
    by_language = table(supervisor, "language", f"{query}&ngo=rep-a")
    assert by_language["th"] == ["6", "0", "6", "5"]
    by_risk = table(supervisor, "risk", f"{query}&ngo=rep-a")
    assert by_risk["unknown"] == ["0", "6", "5"]  # asked for a person without a screening
    # Two people came through rep-b: too few to show.
    assert table(supervisor, "channel", f"{query}&ngo=rep-b")["web"][0] == "<5"

    everyone = supervisor.get(f"/console/reports?{query}")
    assert everyone.status_code == 200
    assert "Harbour Friends (rep-a)" in everyone.text
    assert "&lt;5" in everyone.text
    for conv in asked + others:
        assert conv not in everyone.text
    assert ASK_FOR_A_PERSON not in everyone.text
    csv_text = supervisor.get(f"/console/reports/referral.csv?{query}").text
    assert "rep-a" in csv_text and all(conv not in csv_text for conv in asked)


def test_reports_are_for_supervisors_and_refuse_a_wrong_period(stack: Stack) -> None:
    operator = login(stack, make_user(stack))
    assert operator.get("/console/reports").status_code == 403
    assert operator.get("/console/reports/daily.csv").status_code == 403
    supervisor = login(stack, make_user(stack, "supervisor"))
    wrong = supervisor.get("/console/reports?first=2026-12-09&last=2026-12-01")
    assert wrong.status_code == 400
    assert "the first not after the last" in wrong.text
    assert supervisor.get("/console/reports?first=2025-01-01&last=2026-12-01").status_code == 400
    assert supervisor.get("/console/reports/passwords.csv").status_code == 422
