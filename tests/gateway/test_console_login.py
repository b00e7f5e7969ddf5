"""Signing in to the console against the running stack: a browser that has signed in to an account
keeps its own allowance while an attacker's guesses are refused; an address is the connection's
unless it comes from a trusted proxy (FORWARDED_ALLOW_IPS, a second web process behind uvicorn's
own proxy-headers middleware); IPv6 counted per /64; failed sign-ins counted for supervisors, not
audited; accounts disabled, enabled and given a new password by the admin command; sessions end
after 7 days however busy."""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.limits import address_group
from bot.store import AUDIT, login_failures_key, session_key
from handoff import sessions
from tests.gateway.conftest import Stack
from tests.gateway.test_console import PASSWORD, WRONG, _csrf, admin, login, make_user, names
from tests.gateway.test_observability import scrape, value
from tests.servers import free_port, gateway

pytestmark = pytest.mark.servers

# Loopback addresses other than 127.0.0.1, so that each test's failures count at an address of
# its own (Linux routes the whole 127.0.0.0/8 to the loopback interface).
sources = (f"127.0.0.{n}" for n in itertools.count(10))


def browser(url: str, source: str = "127.0.0.1") -> httpx.Client:
    """A client that connects from `source`, with its own cookies."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=url, transport=transport, timeout=30)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """One sign-in attempt, as the login form sends it."""
    csrf = _csrf(client.get("/console/login").text)
    return client.post("/console/login", data={"user": name, "password": password, "csrf": csrf})


def test_addresses_are_counted_as_they_are_or_by_their_64() -> None:
    assert address_group("203.0.113.7") == "203.0.113.7"
    assert address_group("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_group("2001:db8:1:2::a") == address_group("2001:db8:1:2:ffff::b")
    assert address_group("2001:db8:1:2::a") == "2001:db8:1:2::/64"
    assert address_group("2001:db8:1:3::a") != address_group("2001:db8:1:2::a")
    assert address_group("not an address") == address_group("") == "other"


def test_a_known_browser_signs_in_while_an_attackers_guesses_are_refused(stack: Stack) -> None:
    name = make_user(stack)
    operator = browser(stack.url, next(sources))
    first = sign_in(operator, name)
    assert first.status_code == 303
    cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith("hl_device="))
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert f"max-age={sessions.DEVICE_SECONDS}" in cookie.lower()
    device = operator.cookies["hl_device"]
    operator.post("/console/logout", data={"csrf": _csrf(operator.get("/console").text)})

    attacker = browser(stack.url, next(sources))
    tries = [sign_in(attacker, name, f"guess {n}").status_code for n in range(8)]
    assert tries == [401] * 5 + [429] * 3
    forged = browser(stack.url, next(sources))
    forged.cookies.set("hl_device", "x" * 43, path="/console")
    assert sign_in(forged, name).status_code == 429, "a made-up browser cookie is no proof"
    elsewhere = sign_in(browser(stack.url, next(sources)), name)
    assert elsewhere.status_code == 429, "a new browser waits, even with the right password"
    assert "a browser you have signed in with before" in elsewhere.text

    assert sign_in(operator, name).status_code == 303, "the operator's own browser is not held up"
    assert operator.get("/console").status_code == 200
    assert operator.cookies["hl_device"] == device

    operator.post("/console/logout", data={"csrf": _csrf(operator.get("/console").text)})
    tries = [sign_in(operator, name, f"mistyped {n}").status_code for n in range(6)]
    assert tries == [401] * 5 + [429], "a known browser has five tries of its own, no more"


@pytest.fixture(scope="module")
def behind_a_proxy(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second web process on the same Redis that believes X-Forwarded-For from 127.0.0.2 only
    (Telegram and LINE off: the stack's process has them)."""
    env = {
        key: value
        for key, value in stack.env.items()
        if not key.startswith(("TELEGRAM_TOKEN", "LINE_CHANNEL", "LINE_ACCESS"))
    }
    env |= {"BOT_PORT": str(free_port()), "FORWARDED_ALLOW_IPS": "127.0.0.2"}
    logs: Path = tmp_path_factory.mktemp("proxied")
    with gateway(env, logs) as url:
        yield url


def attempts_at(stack: Stack, address: str) -> int:
    """Sign-in attempts counted at an address now."""
    return int(stack.redis.zcard(login_failures_key(f"addr:{address}")))


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    stack: Stack, behind_a_proxy: str
) -> None:
    forged = {"X-Forwarded-For": "203.0.113.50"}
    unknown = {"user": "nobody-here", "password": "wrong password!"}
    cases = [
        (stack.url, "127.0.0.1", "127.0.0.1"),  # no proxy is trusted by default, not even 127.0.0.1
        (behind_a_proxy, "127.0.0.4", "127.0.0.4"),  # not the trusted proxy
        (behind_a_proxy, "127.0.0.2", "203.0.113.50"),  # the trusted proxy
    ]
    for url, source, counted in cases:
        client = browser(url, source)
        csrf = _csrf(client.get("/console/login").text)
        before = attempts_at(stack, counted), attempts_at(stack, "203.0.113.50")
        response = client.post("/console/login", data={**unknown, "csrf": csrf}, headers=forged)
        assert response.status_code == 401
        assert attempts_at(stack, counted) == before[0] + 1, (source, counted)
        if counted != "203.0.113.50":
            assert attempts_at(stack, "203.0.113.50") == before[1], source


def test_ipv6_addresses_of_one_64_share_their_allowance(stack: Stack, behind_a_proxy: str) -> None:
    proxy = browser(behind_a_proxy, "127.0.0.2")
    csrf = _csrf(proxy.get("/console/login").text)

    def attempt(address: str) -> int:
        data = {"user": f"nobody{next(names)}", "password": "wrong password!", "csrf": csrf}
        headers = {"X-Forwarded-For": address}
        return proxy.post("/console/login", data=data, headers=headers).status_code

    home = "2001:db8:77:1"
    tries = [attempt(f"{home}::{n % 2 + 1:x}") for n in range(sessions.ATTEMPTS_PER_ADDRESS)]
    assert tries == [401] * sessions.ATTEMPTS_PER_ADDRESS
    assert attempt(f"{home}:ffff::3") == 429, "the same /64"
    assert attempt("2001:db8:77:2::1") == 401, "the next /64 is someone else"
    assert attempt("203.0.113.61") == attempt("203.0.113.62") == 401, "IPv4 addresses one by one"


def test_failed_sign_ins_are_counted_for_supervisors_and_never_audited(stack: Stack) -> None:
    name, stranger = make_user(stack), f"nobody{next(names)}"
    newest = stack.redis.xrevrange(AUDIT, count=1)
    since = newest[0][0] if newest else "0-0"
    _, before = scrape(stack.metrics_url)
    attacker = browser(stack.url, next(sources))
    tries = [sign_in(attacker, name, "wrong password!").status_code for _ in range(7)]
    assert tries == [401] * 5 + [429] * 2
    # Counted for the metrics too, with no name.
    exposition, after = scrape(stack.metrics_url)
    refused = "hotline_limit_refusals_total"
    assert value(after, refused, limit="sign-in") == value(before, refused, limit="sign-in") + 2
    assert name not in exposition
    tries = [sign_in(attacker, stranger, "wrong password!").status_code for _ in range(3)]
    assert tries == [401] * 3

    page = login(stack, make_user(stack, "supervisor")).get("/console/accounts").text
    row = page.split(f'data-account="{name}"')[1].split("</tr>")[0]
    failed = re.search(r'<td class="failed">(.*?)</td>', row, re.S)
    assert failed and re.sub(r"\s+", " ", re.sub("<[^>]+>", "", failed.group(1))).strip() == (
        "5 (+2 refused as too many)"
    )
    assert stranger not in page
    assert not stack.redis.keys(f"*{stranger}*"), "an unknown name leaves no key"
    for key in stack.redis.keys("hl:login:failed:*"):
        assert not any(stranger in field for field in stack.redis.hkeys(key))
    lines = stack.redis.xrange(AUDIT, min=f"({since}")
    assert not [f for _, f in lines if f["action"] == "login_failed" or stranger in str(f)]


def test_the_admin_command_disables_enables_and_resets_an_account(stack: Stack) -> None:
    name = make_user(stack)
    open_session = login(stack, name)
    assert open_session.get("/console").status_code == 200

    done = admin(stack, "disable-user", name)
    assert done.returncode == 0, done.stderr
    assert (
        f"Disabled {name}: the account cannot sign in, and its open sessions have ended."
        in done.stdout
    )
    assert open_session.get("/console").status_code == 303, "refused at once"
    refused = sign_in(browser(stack.url, next(sources)), name)
    assert refused.status_code == 401 and WRONG in refused.text
    assert f"{name}\toperator\ten\t-\tdisabled" in admin(stack, "list-users").stdout.splitlines()

    done = admin(stack, "enable-user", name)
    assert done.returncode == 0 and "can sign in again" in done.stdout
    again = login(stack, name)
    assert again.get("/console").status_code == 200

    new = "another long enough password"
    done = admin(stack, "reset-password", name, password=new)
    assert done.returncode == 0 and f"New password set for {name}" in done.stdout
    assert again.get("/console").status_code == 303, "the reset ends open sessions"
    assert sign_in(browser(stack.url, next(sources)), name).status_code == 401, "old password"
    assert login(stack, name, new).get("/console").status_code == 200

    for command in ("disable-user", "enable-user", "reset-password"):
        unknown = admin(stack, command, "nobody-at-all")
        assert unknown.returncode != 0 and "there is no user called nobody-at-all" in unknown.stderr
        assert "Traceback" not in unknown.stderr
    short = admin(stack, "reset-password", name, password="short")
    assert short.returncode != 0 and "at least 12 characters" in short.stderr


def test_a_session_ends_seven_days_after_it_began_however_busy(stack: Stack) -> None:
    client = login(stack, make_user(stack))
    key = session_key(hashlib.sha256(client.cookies["hl_console"].encode()).hexdigest())
    assert 0 < stack.redis.ttl(key) <= sessions.IDLE_SECONDS
    began = float(stack.redis.hget(key, "started") or 0)
    assert abs(began - time.time()) < 60

    almost = time.time() - sessions.LONGEST_SECONDS + 600
    stack.redis.hset(key, "started", str(almost))
    assert client.get("/console").status_code == 200
    assert 0 < stack.redis.ttl(key) <= 600, "kept no longer than its last 10 minutes"

    stack.redis.hset(key, "started", str(time.time() - sessions.LONGEST_SECONDS - 1))
    assert client.get("/console").status_code == 303
    assert not stack.redis.exists(key)
