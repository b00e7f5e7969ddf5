"""The operator console over HTTP against the running stack: accounts made by the admin command,
every route behind a session, CSRF on every form, login rate limits, one operator per
conversation. (The browser walk-through is in test_console_browser.py.)"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Protocol

import httpx
import pytest
import redis.asyncio as aioredis

from bot.store import AUDIT, CONSOLE, OUTBOUND, QUEUE, SENDERS, Store, conversation_key, web_key
from handoff import console
from handoff.routes.audit import AUDIT_PAGE
from hotline.sealer import Sealer
from tests.gateway.conftest import Stack
from tests.servers import ROOT
from tests.waiting import until

pytestmark = pytest.mark.servers

PASSWORD = "a long enough password"
names = itertools.count(1)


class Hotline(Protocol):
    """A running hotline the console helpers reach: its web address and its processes' settings
    (the session's stack, or a second hotline)."""

    url: str
    env: dict[str, str]


def admin(stack: Hotline, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """The account command, run as a hotline runs it (the password on standard input)."""
    return subprocess.run(
        [sys.executable, "-m", "handoff.admin", *args],
        input=f"{password}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=stack.env,
        timeout=30,
    )


def make_user(stack: Hotline, role: str = "operator", password: str = PASSWORD) -> str:
    """An account made by the admin command, as a hotline would make it."""
    name = f"op{next(names)}"
    done = admin(stack, "create-user", name, "--role", role, password=password)
    assert done.returncode == 0, done.stderr
    return name


def login(stack: Hotline, name: str, password: str = PASSWORD) -> httpx.Client:
    """A client signed in to the console."""
    client = httpx.Client(base_url=stack.url, timeout=10)
    form = client.get("/console/login")
    csrf = _csrf(form.text)
    done = client.post("/console/login", data={"user": name, "password": password, "csrf": csrf})
    assert done.status_code == 303, done.text
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has a CSRF token"
    return found.group(1)


@pytest.fixture()
def waiting_conv(stack: Stack) -> Iterator[str]:
    """A web chat conversation whose person asked for a person (it waits in the queue)."""
    client = f"console-{next(names)}-abcdefghijklmnop"
    httpx.post(f"{stack.url}/chat/messages", json={"client": client, "text": "ขอคุยกับเจ้าหน้าที่"})
    conv = stack.conv(client)
    until(
        lambda: stack.redis.zscore(QUEUE, conv) is not None,
        what="the conversation to be queued for a person",
    )
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"
    yield conv


def every_route() -> list[tuple[str, str]]:
    """(method, path) of every console route, read from the console's routers, so a new route is
    walked too. Path parameters get a well-formed value."""
    found = []
    for router in console.routers():
        for route in router.routes:
            path = str(getattr(route, "path", "")).replace("{conv}", "te-" + "0" * 40)
            path = path.replace("{letter}", "1-0")
            for method in sorted(getattr(route, "methods", None) or []):
                found.append((method, path))
    return found


def test_every_route_but_the_login_page_needs_a_session(stack: Stack) -> None:
    routes = every_route()
    assert len(routes) >= 14
    anonymous = httpx.Client(base_url=stack.url, timeout=10)
    for method, path in routes:
        if path == "/console/login":
            continue
        response = anonymous.request(method, path, data={"csrf": "x"})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].endswith("/console/login"), (method, path)
    assert anonymous.get("/console/login").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite(stack: Stack) -> None:
    name = make_user(stack)
    client = httpx.Client(base_url=stack.url, timeout=10)
    csrf = _csrf(client.get("/console/login").text)
    done = client.post("/console/login", data={"user": name, "password": PASSWORD, "csrf": csrf})
    cookie = done.headers["set-cookie"].lower()
    assert "hl_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "default-src 'self'" in client.get("/console").headers["content-security-policy"]


def test_a_form_without_the_csrf_token_changes_nothing(stack: Stack, waiting_conv: str) -> None:
    client = login(stack, make_user(stack))
    refused = client.post(f"/console/c/{waiting_conv}/claim", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert stack.redis.hget(conversation_key(waiting_conv), "state") == "waiting"
    login_form = httpx.post(f"{stack.url}/console/login", data={"user": "x", "password": "y"})
    assert login_form.status_code == 403, "the login form has its own token"


WRONG = "Wrong user name or password, or the account is disabled."


def test_logins_are_rate_limited(stack: Stack) -> None:
    name = make_user(stack)
    client = httpx.Client(base_url=stack.url, timeout=10)
    csrf = _csrf(client.get("/console/login").text)
    for _ in range(5):
        wrong = client.post(
            "/console/login", data={"user": name, "password": "wrong password!", "csrf": csrf}
        )
        assert wrong.status_code == 401
        assert WRONG in wrong.text
    right = client.post("/console/login", data={"user": name, "password": PASSWORD, "csrf": csrf})
    assert right.status_code == 429, "refused for a while, even with the right password"
    assert 840 < int(right.headers["retry-after"]) <= 900
    assert "Try again in 15 min" in right.text
    unknown = client.post(
        "/console/login", data={"user": "nobody", "password": "wrong password!", "csrf": csrf}
    )
    assert WRONG in unknown.text, "an unknown name reads the same"


def test_parallel_guesses_get_no_more_tries_than_one_at_a_time(stack: Stack) -> None:
    name = make_user(stack)

    async def guesses() -> list[int]:
        async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
            csrf = _csrf((await client.get("/console/login")).text)

            async def guess(n: int) -> int:
                # Headers an attacker may vary: none of them buys another try.
                headers = {
                    "X-Forwarded-For": f"198.51.100.{n}",
                    "X-Real-IP": f"198.51.100.{n}",
                    "Cookie": f"hl_login={csrf}; hl_device={secrets.token_urlsafe(32)}",
                }
                data = {"user": name, "password": f"guess number {n:04d}", "csrf": csrf}
                response = await client.post("/console/login", data=data, headers=headers)
                return response.status_code

            return list(await asyncio.gather(*(guess(n) for n in range(50))))

    statuses = asyncio.run(guesses())
    assert sorted(statuses) == [401] * 5 + [429] * 45, statuses


def test_a_second_claim_fails_clearly(stack: Stack, waiting_conv: str) -> None:
    first, second = make_user(stack), make_user(stack)
    anna, ben = login(stack, first), login(stack, second)
    page = anna.get(f"/console/c/{waiting_conv}")
    assert anna.post(
        f"/console/c/{waiting_conv}/claim", data={"csrf": _csrf(page.text)}
    ).is_redirect
    page = ben.get(f"/console/c/{waiting_conv}")
    refused = ben.post(f"/console/c/{waiting_conv}/claim", data={"csrf": _csrf(page.text)})
    assert refused.status_code == 409
    assert f"{first} has already taken this conversation" in refused.text
    assert stack.redis.hget(conversation_key(waiting_conv), "operator") == first


def test_an_unscreened_conversations_risk_is_chosen_not_preset(
    stack: Stack, waiting_conv: str
) -> None:
    """A person who asked for a person without the screening has no risk: the form to set one
    asks to choose, rather than showing "Immediate" as if it were set."""
    client = login(stack, make_user(stack, "supervisor"))
    page = client.get(f"/console/c/{waiting_conv}").text
    assert client.post(f"/console/c/{waiting_conv}/claim", data={"csrf": _csrf(page)}).is_redirect
    page = client.get(f"/console/c/{waiting_conv}").text
    assert '<select name="risk" id="risk" required><option value="" selected disabled>' in page
    assert not re.search(r'<option value="\w+" selected>', page.split('id="risk"')[1][:600])


def test_operators_cannot_read_the_audit_log(stack: Stack) -> None:
    operator = login(stack, make_user(stack))
    assert operator.get("/console/audit").status_code == 403
    supervisor = login(stack, make_user(stack, role="supervisor"))
    page = supervisor.get("/console/audit")
    assert page.status_code == 200 and "signed in" in page.text
    assert supervisor.get("/console/audit?conv=../x").status_code == 422


def test_supervisors_see_dead_letters_and_send_them_again(stack: Stack, waiting_conv: str) -> None:
    async def bury() -> None:
        # A reply that failed as often as a worker tries, set aside by the store as a worker would.
        client = aioredis.Redis(port=stack.server.port, decode_responses=True)
        store = Store(
            client, stack.env["ID_SECRET"].encode(), stack.env["MESSAGE_KEY"].encode(), 3600
        )
        fields = {
            "conv": waiting_conv,
            "seq": "9999",
            "channel": "web",
            "reply_to": "",
            "replies": store.sealer.seal([{"text": "sent again"}]),
        }
        assert await store.failed(OUTBOUND, SENDERS, "1-1", fields, RuntimeError("web down"), 1)
        await client.aclose()

    asyncio.run(bury())
    operator = login(stack, make_user(stack))
    assert operator.get("/console/dead-letters").status_code == 403
    supervisor = login(stack, make_user(stack, role="supervisor"))
    page = supervisor.get("/console/dead-letters").text
    assert "RuntimeError: web down" in page and waiting_conv[:12] in page
    [letter] = re.findall(r"/console/dead-letters/(\d+-\d+)/retry", page)
    refused = operator.post(f"/console/dead-letters/{letter}/retry", data={"csrf": "x"})
    assert refused.status_code == 403
    done = supervisor.post(f"/console/dead-letters/{letter}/retry", data={"csrf": _csrf(page)})
    assert done.status_code == 303 and done.headers["location"].endswith("done=retried")
    assert "web down" not in supervisor.get("/console/dead-letters").text
    sealer = Sealer(stack.env["MESSAGE_KEY"].encode())

    def arrived() -> bool:
        shown = [sealer.open(f["replies"]) for _, f in stack.redis.xrange(web_key(waiting_conv))]
        return [{"text": "sent again"}] in shown

    until(arrived, what="the reply sent again to reach the web chat")
    assert "sent a dead letter again" in supervisor.get("/console/audit").text


def test_the_audit_log_is_paged(stack: Stack) -> None:
    for n in range(AUDIT_PAGE + 1):
        stack.redis.xadd(AUDIT, {"at": time.time(), "user": "x", "action": "viewed", "detail": n})
    supervisor = login(stack, make_user(stack, role="supervisor"))
    first = supervisor.get("/console/audit").text
    assert first.count("<tr>") == AUDIT_PAGE + 1, "a page of lines under the header"
    older = re.search(r'href="/console/audit\?before=([0-9-]+)"', first)
    assert older, "a link to the older lines"
    second = supervisor.get(f"/console/audit?before={older.group(1)}").text
    assert f"<td>{AUDIT_PAGE - 1}</td>" in first and f"<td>{AUDIT_PAGE - 1}</td>" not in second


def test_the_admin_command_refuses_a_short_password(stack: Stack) -> None:
    done = admin(stack, "create-user", "shorty", password="short")
    assert done.returncode != 0
    assert "at least 12 characters" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_transferred_conversation_answers_to_its_new_holder(
    stack: Stack, waiting_conv: str
) -> None:
    first, second = make_user(stack), make_user(stack)
    anna, ben = login(stack, first), login(stack, second)
    csrf_anna = _csrf(anna.get(f"/console/c/{waiting_conv}").text)
    csrf_ben = _csrf(ben.get(f"/console/c/{waiting_conv}").text)
    anna.post(f"/console/c/{waiting_conv}/claim", data={"csrf": csrf_anna})
    moved = anna.post(f"/console/c/{waiting_conv}/transfer", data={"csrf": csrf_anna, "to": second})
    assert moved.is_redirect
    refused = anna.post(f"/console/c/{waiting_conv}/reply", data={"csrf": csrf_anna, "text": "hi"})
    assert refused.status_code == 409 and f"{second} holds this conversation" in refused.text
    sent = ben.post(f"/console/c/{waiting_conv}/reply", data={"csrf": csrf_ben, "text": "hi"})
    assert sent.is_redirect
    assert stack.redis.hget(conversation_key(waiting_conv), "operator") == second


def test_an_operator_takes_a_conversation_that_did_not_ask(stack: Stack) -> None:
    client = f"console-{next(names)}-abcdefghijklmnop"
    httpx.post(f"{stack.url}/chat/messages", json={"client": client, "text": "สวัสดีครับ"})
    conv = stack.conv(client)
    until(
        lambda: stack.redis.hget(conversation_key(conv), "in_done") == "1",
        what="the message to be handled",
    )
    operator = login(stack, make_user(stack))
    queue = operator.get("/console")
    assert f'data-conv="{conv}"' in queue.text, "listed among the recent conversations"
    taken = operator.post(f"/console/c/{conv}/claim", data={"csrf": _csrf(queue.text)})
    assert taken.is_redirect
    assert stack.redis.hget(conversation_key(conv), "state") == "operator"
    assert "Taken from the list by an operator" in operator.get(f"/console/c/{conv}").text


def test_operators_see_a_pseudonym_never_the_telegram_id_or_name(stack: Stack) -> None:
    chat_id = 912_345_678
    update = stack.telegram.text_update(chat_id, "ขอคุยกับเจ้าหน้าที่")
    person = {"username": "somchai_marked", "first_name": "Somchai", "last_name": "Markedname"}
    update["message"]["from"].update(person)
    update["message"]["chat"].update(person)
    stack.telegram.queue_update(update)
    conv = stack.conv(str(chat_id), "telegram")
    until(
        lambda: stack.redis.zscore(QUEUE, conv) is not None,
        what="the Telegram person to be queued for a person",
    )
    client = login(stack, make_user(stack))
    client.post(f"/console/c/{conv}/claim", data={"csrf": _csrf(client.get("/console").text)})
    pages = [client.get(path).text for path in ("/console", "/console/queue")]
    pages += [client.get(f"/console/c/{conv}{part}").text for part in ("", "/live")]
    assert conv in pages[-2], "the conversation is shown by its pseudonym"
    for page in pages:
        for marked in (str(chat_id), "somchai", "Somchai", "Markedname"):
            assert marked not in page


def test_a_quick_exit_closes_the_handoff_and_the_operator_reads_why(stack: Stack) -> None:
    client = f"console-{next(names)}-abcdefghijklmnop"
    for text in ("ขอคุยกับเจ้าหน้าที่", "ดอกมะลิ"):
        httpx.post(f"{stack.url}/chat/messages", json={"client": client, "text": text})
    conv = stack.conv(client)
    until(
        lambda: stack.redis.hget(conversation_key(conv), "state") == "closed",
        what="the quick exit to close the hand-off",
    )
    page = login(stack, make_user(stack)).get(f"/console/c/{conv}").text
    assert "quick exit: the chat page closed" in page
    assert "The person left quickly" in page


def test_supervisors_keep_the_ngo_registry(stack: Stack) -> None:
    operator = make_user(stack)
    assert login(stack, operator).get("/console/ngos").status_code == 403
    supervisor = login(stack, make_user(stack, "supervisor"))
    csrf = _csrf(supervisor.get("/console/ngos").text)
    form = {"csrf": csrf, "code": "mekong-aid", "name": "Mekong Aid", "languages": ["th", "km"]}

    bad = supervisor.post("/console/ngos", data={**form, "code": "has spaces"})
    assert bad.status_code == 400 and "code:" in bad.text
    assert 'value="Mekong Aid"' in bad.text, "what was typed is kept"
    unknown = supervisor.post("/console/ngos", data={**form, "team": "nobody-here"})
    assert unknown.status_code == 400 and "no console account named nobody-here" in unknown.text
    assert "mekong-aid" not in supervisor.get("/console/ngos").text, "nothing saved"

    saved = supervisor.post("/console/ngos", data={**form, "team": operator, "contact": "+66 0"})
    assert saved.status_code == 303
    listed = supervisor.get("/console/ngos").text
    assert "Mekong Aid" in listed and operator in listed and "Khmer" in listed
    assert "Vietnamese</td>" not in listed
    editing = supervisor.get("/console/ngos", params={"code": "mekong-aid"}).text
    assert 'value="Mekong Aid"' in editing and 'value="km" checked' in editing
    assert "saved an NGO" in supervisor.get("/console/audit").text


def test_an_ngos_handoffs_go_to_its_team_while_one_of_it_is_online(stack: Stack) -> None:
    member, other = make_user(stack), make_user(stack)
    supervisor = login(stack, make_user(stack, "supervisor"))
    form = {"code": "route-ngo", "name": "Route", "languages": ["vi"], "team": member}
    csrf = _csrf(supervisor.get("/console/ngos").text)
    assert supervisor.post("/console/ngos", data={**form, "csrf": csrf}).status_code == 303
    newest = stack.redis.xrevrange(CONSOLE, count=1)
    since = newest[0][0] if newest else "0-0"
    client = f"console-{next(names)}-abcdefghijklmnop"
    body = {"client": client, "text": "cho gặp nhân viên", "ref": "route-ngo"}
    httpx.post(f"{stack.url}/chat/messages", json=body)
    conv = stack.conv(client)
    until(
        lambda: stack.redis.zscore(QUEUE, conv) is not None,
        what="the conversation to be queued for a person",
    )
    stack.redis.zrem("hl:operators:online", member)
    outsider = login(stack, other)
    assert conv in outsider.get("/console/queue").text, "nobody of the team is online"
    team = login(stack, member)
    assert conv in team.get("/console").text
    assert conv not in outsider.get("/console/queue").text, "now it is the team's"
    assert conv in supervisor.get("/console/queue").text
    # Only those whose queue it reaches are alerted: the outsider's live events skip it.
    general = f"console-{next(names)}-abcdefghijklmnop"
    httpx.post(f"{stack.url}/chat/messages", json={"client": general, "text": "cho gặp nhân viên"})
    other_conv = stack.conv(general)
    outsider_saw = queued_events(outsider, since, other_conv)
    assert conv not in outsider_saw and other_conv in outsider_saw
    assert conv in queued_events(team, since, other_conv)


def queued_events(client: httpx.Client, since: str, until: str) -> list[str]:
    """The conversations of the `queued` events a console's live stream sends after `since`,
    read until the one of `until`."""
    seen = []
    with client.stream("GET", f"/console/events?since={since}", timeout=30) as response:
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            if event["kind"] == "queued":
                seen.append(event["conv"])
            if event["conv"] == until and event["kind"] == "queued":
                return seen
    return seen
