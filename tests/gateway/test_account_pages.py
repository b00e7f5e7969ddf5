"""Who reads what: an account lists the languages of the people its operator reads (the admin
command's --reads, and the supervisors' accounts page); a hand-off alerts the online operators
who read its language first, and everyone when none of them is online. And supervisors disable,
enable and give new passwords to accounts on that page."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.store import ONLINE, QUEUE
from handoff import accounts
from tests.gateway.conftest import Stack
from tests.gateway.test_console import (
    PASSWORD,
    WRONG,
    _csrf,
    admin,
    login,
    make_user,
    names,
)
from tests.gateway.test_handed_off import event_for, newest_event
from tests.waiting import until

pytestmark = pytest.mark.servers


def test_the_admin_command_records_what_an_operator_reads(stack: Stack) -> None:
    name = f"reader{next(names)}"
    made = admin(stack, "create-user", name, "--reads", "km,th")
    assert made.returncode == 0, made.stderr
    assert "reads th, km" in made.stdout
    listed = admin(stack, "list-users").stdout
    assert f"{name}\toperator\ten\tth,km\tactive" in listed.splitlines()
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


def test_supervisors_disable_enable_and_reset_an_account(stack: Stack) -> None:
    name, boss = make_user(stack), make_user(stack, "supervisor")
    operator, supervisor = login(stack, name), login(stack, boss)
    page = supervisor.get("/console/accounts").text
    csrf = _csrf(page)
    mine = page.split(f'data-account="{boss}"')[1].split("</tr>")[0]
    assert "/disable" not in mine, "no button to disable oneself"
    other = login(stack, make_user(stack))
    other_csrf = _csrf(other.get("/console").text)
    refused = other.post(f"/console/accounts/{name}/disable", data={"csrf": other_csrf})
    assert refused.status_code == 403, "operators cannot"

    assert (
        supervisor.post(f"/console/accounts/{name}/disable", data={"csrf": "x"}).status_code == 403
    )
    assert operator.get("/console").status_code == 200, "a forged form changes nothing"
    assert supervisor.post(f"/console/accounts/{name}/disable", data={"csrf": csrf}).is_redirect
    assert operator.get("/console").status_code == 303, "its open session stops at once"
    stranger = httpx.Client(base_url=stack.url, timeout=10)
    form = _csrf(stranger.get("/console/login").text)
    tried = stranger.post("/console/login", data={"user": name, "password": PASSWORD, "csrf": form})
    assert tried.status_code == 401 and WRONG in tried.text
    row = supervisor.get("/console/accounts").text.split(f'data-account="{name}"')[1]
    assert "Disabled" in row.split("</tr>")[0] and "/enable" in row.split("</tr>")[0]

    itself = supervisor.post(f"/console/accounts/{boss}/disable", data={"csrf": csrf})
    assert itself.status_code == 409 and "cannot disable your own account" in itself.text
    assert supervisor.get("/console/accounts").status_code == 200

    assert supervisor.post(f"/console/accounts/{name}/enable", data={"csrf": csrf}).is_redirect
    operator = login(stack, name)
    assert operator.get("/console").status_code == 200

    made = supervisor.post(f"/console/accounts/{name}/password", data={"csrf": csrf})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="password">([a-z0-9-]+)</code>', made.text)
    assert found and len(found.group(1)) >= accounts.MIN_PASSWORD
    assert operator.get("/console").status_code == 303, "a new password ends the sessions"
    old = httpx.Client(base_url=stack.url, timeout=10)
    form = _csrf(old.get("/console/login").text)
    tried = old.post("/console/login", data={"user": name, "password": PASSWORD, "csrf": form})
    assert tried.status_code == 401
    assert login(stack, name, found.group(1)).get("/console").status_code == 200

    unknown = supervisor.post("/console/accounts/nobody-here/disable", data={"csrf": csrf})
    assert unknown.status_code == 404
    audit = supervisor.get("/console/audit").text
    for said in ("disabled an account", "enabled an account", "gave an account a new password"):
        assert re.search(rf"{said}</td>.*?<td>{name}</td>", audit, re.S), said
    assert found.group(1) not in audit


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
    until(lambda: stack.redis.zscore(QUEUE, conv) is not None, what="an immediate hand-off")
    return conv
