"""Who reads what: an account lists the languages of the people its operator reads (the admin
command's --reads, and the supervisors' accounts page); a hand-off alerts the online operators
who read its language first, and everyone when none of them is online."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.store import ONLINE, QUEUE
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, admin, login, make_user, names
from tests.gateway.test_handed_off import event_for, newest_event

pytestmark = pytest.mark.servers


def test_the_admin_command_records_what_an_operator_reads(stack: Stack) -> None:
    name = f"reader{next(names)}"
    made = admin(stack, "create-user", name, "--reads", "km,th")
    assert made.returncode == 0, made.stderr
    assert "reads th, km" in made.stdout
    listed = admin(stack, "list-users").stdout
    assert f"{name}\toperator\ten\tth,km" in listed.splitlines()
    wrong = admin(stack, "create-user", f"reader{next(names)}", "--reads", "th,lo")
    assert wrong.returncode != 0 and "lo is not one of th, vi, km" in wrong.stderr


def test_supervisors_set_what_each_account_reads(stack: Stack) -> None:
    operator = make_user(stack)
    assert login(stack, operator).get("/console/accounts").status_code == 403
    supervisor = login(stack, make_user(stack, "supervisor"))
    page = supervisor.get("/console/accounts").text
    assert f'data-account="{operator}"' in page
    done = supervisor.post(
        f"/console/accounts/{operator}/reads", data={"csrf": _csrf(page), "reads": ["vi", "km"]}
    )
    assert done.status_code == 303
    row = supervisor.get("/console/accounts").text.split(f'data-account="{operator}"')[1]
    row = row.split("</tr>")[0]
    assert 'value="vi" checked' in row and 'value="km" checked' in row
    assert 'value="th" checked' not in row
    unknown = supervisor.post("/console/accounts/nobody-here/reads", data={"csrf": _csrf(page)})
    assert unknown.status_code == 404
    assert "changed an account" in supervisor.get("/console/audit").text


def test_a_handoff_alerts_those_who_read_its_language_first(stack: Stack) -> None:
    stack.redis.delete(ONLINE)
    reader, other = make_user(stack), make_user(stack)
    admin_page = login(stack, make_user(stack, "supervisor"))
    csrf = _csrf(admin_page.get("/console/accounts").text)
    admin_page.post(f"/console/accounts/{reader}/reads", data={"csrf": csrf, "reads": ["km"]})
    stack.redis.delete(ONLINE)  # the supervisor's page made them online; not part of this
    reading, not_reading = login(stack, reader), login(stack, other)
    reading.get("/console")
    not_reading.get("/console")
    since = newest_event(stack)

    urgent = ask_in_danger(stack, "ជួយខ្ញុំផង គេវាយខ្ញុំ")
    assert event_for(reading, since, urgent, "queued")["alert"]
    assert not event_for(not_reading, since, urgent, "queued")["alert"], "a reader is online"
    row = not_reading.get("/console/queue").text
    assert reader in row.split(f'data-conv="{urgent}"')[1].split("</tr>")[0]

    stack.redis.zrem(ONLINE, reader)
    since = newest_event(stack)
    nobody = ask_in_danger(stack, "ជួយខ្ញុំផង គេចាប់ខ្ញុំ")
    assert event_for(not_reading, since, nobody, "queued")["alert"], "no reader online: everyone"
    row = not_reading.get("/console/queue").text.split(f'data-conv="{nobody}"')[1]
    assert "Nobody online reads this language" in row.split("</tr>")[0]


def ask_in_danger(stack: Stack, text: str) -> str:
    """A web chat person in danger (an immediate hand-off); returns the conversation."""
    client = f"reads-{next(names)}-abcdefghijklmnop"
    httpx.post(f"{stack.url}/chat/messages", json={"client": client, "text": text})
    conv = stack.conv(client)
    deadline = time.monotonic() + 30
    while stack.redis.zscore(QUEUE, conv) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return conv
