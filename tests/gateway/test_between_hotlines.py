"""Two hotlines running this project on one machine (issue 20): the session's stack is the Thai
hotline; a second one, the Cambodian, runs its own web process and worker on its own Redis, with
its own secrets and referral key. Each pins the other's public key. A Khmer person in the Thai
hotline agrees to a referral; it reaches the Cambodian console, which accepts it, and the status
comes back to the Thai console. A forged envelope, a replayed one and one from a key nobody pinned
are refused there, with nothing stored."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, expect

from bot import counts, envelopes
from bot.outbox import INBOX_PATH
from bot.store.keys import CONSOLE, OUTBOX_ITEMS, stats_key
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.gateway.test_console_browser import signed_in
from tests.gateway.test_partners import add_partner
from tests.gateway.test_referrals import PRINTS as SHOTS
from tests.gateway.test_telegram import Chat, keyboard
from tests.servers import (
    RedisProcess,
    environment,
    free_port,
    gateway,
    gateway_environment,
    start_worker,
    stop,
)
from tests.waiting import until

pytestmark = pytest.mark.servers


@dataclass
class Hotline:
    """The second hotline: where it is, its settings and Redis."""

    url: str
    env: dict[str, str]
    redis: RedisProcess


@pytest.fixture(scope="module")
def cambodia(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    """The Cambodian hotline, with the Thai one pinned as a partner (and it, in the Thai one)."""
    server = RedisProcess(tmp_path_factory.mktemp("redis-kh"))
    logs = tmp_path_factory.mktemp("logs-kh")
    env = {
        **gateway_environment(environment(server.port, free_port()), stack.env["RASA_URL"]),
        "ID_SECRET": "the-cambodian-hotline-id-secret",
        "MESSAGE_KEY": Fernet.generate_key().decode(),
        "REFERRAL_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MEDIA_DIR": str(tmp_path_factory.mktemp("media-kh")),
    }
    for name in ("TELEGRAM_TOKEN", "LINE_CHANNEL_SECRET", "LINE_ACCESS_TOKEN"):
        env.pop(name, None)
    with gateway(env, logs) as url:
        worker = start_worker(env, logs, "kh1")
        try:
            hotline = Hotline(url, env, server)
            supervisor = login_to(hotline)
            thai_key = envelopes.public_key(stack.env["REFERRAL_KEY"])
            thai = {"id": "th-hotline", "name": "Thai hotline", "country": "th"}
            assert (
                add_partner(supervisor, **thai, url=stack.url, public_key=thai_key).status_code
                == 303
            )
            cambodian_key = envelopes.public_key(env["REFERRAL_KEY"])
            here = login(stack, make_user(stack, "supervisor"))
            assert add_partner(here, url=url, public_key=cambodian_key).status_code == 303
            yield hotline
        finally:
            stop(worker)
            server.stop()


def login_to(hotline: Hotline, role: str = "supervisor") -> httpx.Client:
    """A new account of the Cambodian hotline, made with its admin command, signed in."""
    return login(hotline, make_user(hotline, role))


def referral_events(stack: Stack, conv: str) -> int:
    """How many times open consoles were told the conversation's referrals changed."""
    found = stack.redis.xrange(CONSOLE)
    return sum(1 for _, f in found if f.get("conv") == conv and f.get("kind") == "referral")


def test_a_consented_referral_reaches_the_partner_and_its_status_comes_back(
    stack: Stack, cambodia: Hotline, browser: Browser
) -> None:
    chat = Chat(stack)
    chat.say("សួស្តី", replies=2)
    chat.press("/request_human", replies=1)
    thai = login(stack, make_user(stack, "supervisor"))
    csrf = {"csrf": _csrf(thai.get(f"/console/c/{chat.conv}").text)}
    assert thai.post(f"/console/c/{chat.conv}/claim", data=csrf).status_code == 303
    form = {**csrf, "partner": "kh-hotline", "origin": "kh", "needs": ["return"], "note": "home"}
    assert thai.post(f"/console/c/{chat.conv}/refer", data=form).status_code == 303
    question = until(
        lambda: [m for m in stack.telegram.sent(chat.id) if "partner hotline" in m["text"]],
        30,
        "the consent question to reach Telegram",
    )
    chat.press(keyboard(question)[0]["callback_data"], replies=2)
    chat.say("012 345 678")  # the number the person types in for the partner

    until(
        lambda: "received by the partner" in thai.get(f"/console/c/{chat.conv}").text,
        30,
        "the Thai worker to deliver the referral",
    )
    khmer = login_to(cambodia, "operator")
    received = khmer.get("/console/referrals").text
    assert "Thai hotline" in received and "Return home" in received and "home" in received
    assert chat.conv not in received, "the partner never learns the conversation's id"
    until(
        lambda: "012 345 678" in khmer.get("/console/referrals").text,
        30,
        "the number the person typed to reach the partner",
    )
    [envelope_id] = re.findall(r'id="received-([0-9a-f]{10})"', received)

    before = referral_events(stack, chat.conv)
    # The Cambodian operator accepts it in the console, in Chromium.
    tab = signed_in(browser, cambodia, make_user(cambodia))
    tab.click("nav >> text=Referrals")
    row = tab.locator(f"#received-{envelope_id}")
    expect(row).to_contain_text("Return home")
    row.locator("select[name=status]").select_option("accepted")
    row.locator("button[type=submit]", has_text="Set and send back").click()
    expect(tab.locator("p.notice")).to_be_visible()
    expect(tab.locator(f"#received-{envelope_id} .referral-state")).to_contain_text("accepted")
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / "received.png"), full_page=True)
    tab.close()
    until(
        lambda: ">accepted<" in thai.get(f"/console/c/{chat.conv}").text,
        30,
        "the status to come back to the Thai console",
    )
    assert referral_events(stack, chat.conv) > before, "open consoles refresh at once"

    # Messages relayed both ways: the partner writes, the person reads it in their Telegram chat;
    # the Thai operator passes the person's answer back.
    received = khmer.get("/console/referrals").text
    khmer.post(
        f"/console/referrals/{envelope_id}/message",
        data={"csrf": _csrf(received), "text": "សួស្តី យើងអាចជួយអ្នកត្រឡប់ទៅផ្ទះបាន"},
    )
    relayed = until(
        lambda: [m for m in stack.telegram.sent(chat.id) if m["text"].startswith("✉ ")],
        30,
        "the partner's message to reach the person",
    )
    assert relayed[0]["text"] == "✉ Cambodian partner hotline:\nសួស្តី យើងអាចជួយអ្នកត្រឡប់ទៅផ្ទះបាន"
    page = thai.get(f"/console/c/{chat.conv}").text
    [referral_id] = re.findall(r'id="referral-([0-9a-f]{10})"', page)
    assert "យើងអាចជួយអ្នក" in page, "the operators see it with the referral"
    thai.post(
        f"/console/c/{chat.conv}/referrals/{referral_id}/message",
        data={"csrf": _csrf(page), "text": "She can travel next week"},
    )
    until(
        lambda: "She can travel next week" in khmer.get("/console/referrals").text,
        30,
        "the person's answer to reach the partner",
    )

    day = stats_key(counts.day(time.time()), counts.ALL)
    counted = {k: v for k, v in stack.redis.hgetall(day).items() if k.startswith("referrals_")}
    assert int(counted.get("referrals_sent|partner_country|kh", 0)) == 1
    assert int(counted.get("referrals_accepted|partner_country|kh", 0)) == 1
    report = thai.get("/console/reports").text
    assert 'id="by-partner_country"' in report and "Referrals accepted" in report

    # "Forget me" in the Thai hotline calls the referral back: the Cambodian one erases it.
    chat.say("/forget")
    until(
        lambda: f'id="received-{envelope_id}"' not in khmer.get("/console/referrals").text,
        30,
        "the Cambodian hotline to erase the referral",
    )
    until(lambda: not stack.redis.hkeys(OUTBOX_ITEMS), 30, "the revocation to be acknowledged")


def test_forged_replayed_and_unknown_envelopes_are_refused(stack: Stack, cambodia: Hotline) -> None:
    inbox = cambodia.url + INBOX_PATH
    cambodian_key = envelopes.public_key(cambodia.env["REFERRAL_KEY"])
    payload = {
        "type": "referral",
        "origin": "kh",
        "now": "th",
        "language": "km",
        "risk": "high",
        "signs": [],
        "needs": [],
        "contact": "chat",
        "note": "forged",
        "back": "",
    }
    stranger = envelopes.make_key()
    unknown = httpx.post(inbox, json=envelopes.seal(payload, stranger, cambodian_key))
    assert unknown.status_code == 403 and unknown.json()["detail"] == "unknown_key"
    forged = envelopes.seal(payload, stranger, cambodian_key)
    forged["from"] = envelopes.public_key(stack.env["REFERRAL_KEY"])
    refused = httpx.post(inbox, json=forged)
    assert refused.status_code == 403 and refused.json()["detail"] == "signature"
    genuine = envelopes.seal(
        {**payload, "note": "genuine"}, stack.env["REFERRAL_KEY"], cambodian_key
    )
    assert httpx.post(inbox, json=genuine).status_code == 202
    replayed = httpx.post(inbox, json=genuine)
    assert replayed.status_code == 409
    khmer = login_to(cambodia, "operator")
    page = khmer.get("/console/referrals").text
    assert page.count("genuine") == 1 and "forged" not in page
    assert httpx.post(inbox, content=b"not json").status_code == 400
    # A status about a referral the Cambodian hotline never sent (or had forgotten): 410, and the
    # sender stops trying.
    status = {"type": "status", "status": "accepted", "reason": "", "back": "not a token"}
    gone = httpx.post(inbox, json=envelopes.seal(status, stack.env["REFERRAL_KEY"], cambodian_key))
    assert gone.status_code == 410
