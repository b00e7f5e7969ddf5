"""Referral to a partner in the person's home country (issue 20), consent first: the operator
asks through the console, the person reads the question in their language on Telegram and answers
with buttons; what they were shown and their answer are kept with the referral; nothing is due to
be sent without "agree"."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bot import envelopes
from bot.store.keys import OUTBOX_ITEMS
from bot.store.referrals import ANSWER, payload
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.gateway.test_console_browser import signed_in
from tests.gateway.test_partners import add_partner
from tests.gateway.test_share_kit_browser import PAGE_OBJECT
from tests.gateway.test_telegram import Chat, keyboard, texts
from tests.servers import ROOT
from tests.waiting import until

PRINTS = ROOT / "results" / "referrals"

pytestmark = pytest.mark.servers


def referred(stack: Stack) -> tuple[Chat, httpx.Client, str]:
    """A Khmer person on Telegram handed off and held by an operator, who asks their consent to
    a referral to the Cambodian partner hotline; the consent question's buttons."""
    supervisor = login(stack, make_user(stack, "supervisor"))
    add_partner(supervisor)
    chat = Chat(stack)
    chat.say("សួស្តី", replies=2)
    chat.press("/request_human", replies=1)
    page = supervisor.get(f"/console/c/{chat.conv}").text
    csrf = {"csrf": _csrf(page)}
    assert supervisor.post(f"/console/c/{chat.conv}/claim", data=csrf).status_code == 303
    assert 'id="refer-form"' in supervisor.get(f"/console/c/{chat.conv}").text
    form = {**csrf, "partner": "kh-hotline", "origin": "kh", "needs": ["return"], "note": "x"}
    asked = supervisor.post(f"/console/c/{chat.conv}/refer", data=form)
    assert asked.status_code == 303
    until(
        lambda: "Cambodian partner hotline" in texts(stack.telegram.sent(chat.id)[-1:]),
        30,
        "the consent question to reach Telegram",
    )
    return chat, supervisor, chat.conv


def test_the_person_reads_the_question_asks_what_is_sent_and_agrees(stack: Stack) -> None:
    chat, supervisor, conv = referred(stack)
    question = stack.telegram.sent(chat.id)[-1]
    assert "Cambodian partner hotline" in question["text"] and "កម្ពុជា" in question["text"]
    assert "ការវិលត្រឡប់ទៅផ្ទះ" in question["text"], "what the partner offers, in Khmer"
    buttons = keyboard([question])
    assert [b["text"] for b in buttons] == ["យល់ព្រម", "មិនទាន់ទេ", "នឹងផ្ញើអ្វីខ្លះ?"]
    agree, _, what = (b["callback_data"] for b in buttons)
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    [referral_id, _] = ANSWER.match(agree).groups()  # type: ignore[union-attr]

    details = chat.press(what)
    assert "មកពី៖ កម្ពុជា" in texts(details) and "ត្រូវការ៖ ការវិលត្រឡប់ទៅផ្ទះ" in texts(details)
    assert [b["callback_data"] for b in keyboard(details)][0] == agree, "asked again"
    assert not stack.redis.hkeys(OUTBOX_ITEMS), "nothing to send before agree"

    said = chat.press(agree, replies=2)
    assert "Cambodian partner hotline" in texts(said) and "សូមអរគុណ" in texts(said)
    assert "វាយលេខទូរស័ព្ទរបស់អ្នក" in texts(said), "asked for a number, if they want"
    assert referral_id in stack.redis.hkeys(OUTBOX_ITEMS), "in the outbox for the partner"
    page = supervisor.get(f"/console/c/{conv}").text
    assert "the person agreed: to be sent" in page, "its partner is not reachable in this test"
    assert "[យល់ព្រម]" in page, "the operator sees what the person pressed"
    assert "referral_asked" in str(stack.redis.xrange("hl:audit"))

    kept = chat.say("+855 12 345 678")
    assert "+855 12 345 678" in texts(kept) and "យើងនឹងផ្ដល់លេខនេះ" in texts(kept)
    assert "☎ +855 12 345 678" in supervisor.get(f"/console/c/{conv}").text
    assert f"{referral_id}-phone" in stack.redis.hkeys(OUTBOX_ITEMS), "sent on to the partner"
    again = chat.press(agree, replies=0)  # pressed twice: an ordinary message, for the operator
    assert not texts(again)
    assert stack.redis.hkeys(OUTBOX_ITEMS).count(referral_id) == 1, "queued once"


def test_not_now_keeps_the_answer_and_sends_nothing(stack: Stack) -> None:
    chat, supervisor, conv = referred(stack)
    later = keyboard([stack.telegram.sent(chat.id)[-1]])[1]["callback_data"]
    assert "គ្មានអ្វីត្រូវបានផ្ញើទេ" in texts(chat.press(later))
    assert ANSWER.match(later).group(1) not in stack.redis.hkeys(OUTBOX_ITEMS)  # type: ignore[union-attr]
    assert "the person said not now: nothing sent" in supervisor.get(f"/console/c/{conv}").text


def test_another_conversations_referral_cannot_be_answered(stack: Stack) -> None:
    chat, _, conv = referred(stack)
    agree = keyboard([stack.telegram.sent(chat.id)[-1]])[0]["callback_data"]
    stranger = Chat(stack)
    stranger.say("សួស្តី", replies=2)
    stranger.press(agree, replies=1)  # the assistant answers it as any other text
    assert ANSWER.match(agree).group(1) not in stack.redis.hkeys(OUTBOX_ITEMS)  # type: ignore[union-attr]
    assert conv
    assert re.fullmatch(r"/referral\{.+\}", payload("0123456789", "agree"))


def test_forget_me_calls_the_referral_back_and_an_unreachable_partner_is_shown(
    stack: Stack,
) -> None:
    """The partner of this module is unreachable: the referral never leaves once the person
    says "forget me", and the call-back waits, tried again, listed for supervisors."""
    chat, supervisor, conv = referred(stack)
    agree = keyboard([stack.telegram.sent(chat.id)[-1]])[0]["callback_data"]
    referral_id = ANSWER.match(agree).group(1)  # type: ignore[union-attr]
    chat.press(agree)
    chat.say("/forget")
    outgoing = stack.redis.hkeys(OUTBOX_ITEMS)
    assert referral_id not in outgoing, "a referral not sent yet never leaves"
    assert f"{referral_id}-revoke" in outgoing, "its call-back waits for the partner"
    until(
        lambda: (
            "ConnectionRefused" in supervisor.get("/console/partners").text
            or "ClientConnectorError" in supervisor.get("/console/partners").text
        ),
        30,
        "the failed try to be shown to supervisors",
    )
    assert not stack.redis.exists(f"hl:referrals:{conv}"), "the referral went with the chat"


def test_a_partner_without_the_system_gets_one_printed_page_and_a_signed_file(
    stack: Stack, browser: Browser
) -> None:
    """The referral to a shelter that does not run this project waits as "to print": one A4 page
    in English and Khmer, printed by Chromium, and a file whose signature holds for this
    hotline's key and breaks when a field is changed."""
    supervisor = login(stack, make_user(stack, "supervisor"))
    shelter = {"id": "kh-shelter", "name": "Shelter in Phnom Penh", "url": "", "public_key": ""}
    assert add_partner(supervisor, **shelter, contact="shelter@example.org").status_code == 303
    chat = Chat(stack)
    chat.say("សួស្តី", replies=2)
    chat.press("/request_human", replies=1)
    csrf = {"csrf": _csrf(supervisor.get(f"/console/c/{chat.conv}").text)}
    supervisor.post(f"/console/c/{chat.conv}/claim", data=csrf)
    form = {**csrf, "partner": "kh-shelter", "origin": "kh", "needs": ["shelter"], "note": "safe"}
    assert supervisor.post(f"/console/c/{chat.conv}/refer", data=form).status_code == 303
    question = until(
        lambda: [m for m in stack.telegram.sent(chat.id) if "Shelter in Phnom Penh" in m["text"]],
        30,
        "the consent question",
    )
    agree = keyboard(question)[0]["callback_data"]
    referral_id = ANSWER.match(agree).group(1)  # type: ignore[union-attr]
    assert (
        supervisor.get(f"/console/c/{chat.conv}/referrals/{referral_id}/print").status_code == 404
    )
    chat.press(agree)
    page_html = supervisor.get(f"/console/c/{chat.conv}").text
    assert "to print or e-mail to the partner" in page_html
    assert not [i for i in stack.redis.hkeys(OUTBOX_ITEMS) if i.startswith(referral_id)]

    signed = supervisor.get(f"/console/c/{chat.conv}/referrals/{referral_id}/referral.json")
    ours = envelopes.public_key(stack.env["REFERRAL_KEY"])
    document = envelopes.check_document(signed.json(), ours)
    assert document["reference"] == referral_id and document["needs"] == ["shelter"]
    assert "back" not in document and chat.conv not in signed.text
    changed = signed.json()
    changed["document"]["note"] = "changed"
    with pytest.raises(envelopes.Refused):
        envelopes.check_document(changed, ours)

    PRINTS.mkdir(parents=True, exist_ok=True)
    tab = signed_in(browser, stack, make_user(stack, "supervisor"))
    tab.goto(f"{stack.url}/console/c/{chat.conv}/referrals/{referral_id}/print")
    expect(tab.locator("#print")).to_be_visible()  # the static script ran
    shown = tab.locator("article").inner_text()
    assert "Comes from" in shown and "Cambodia" in shown, "English"
    assert "មកពី" in shown and "ទីជម្រក" in shown, "Khmer: the field and the need"
    tab.screenshot(path=str(PRINTS / "referral-km.png"), full_page=True)
    pdf = tab.pdf(format="A4", print_background=True)
    (PRINTS / "referral-km.pdf").write_bytes(pdf)
    assert len(PAGE_OBJECT.findall(pdf)) == 1, "one A4 page"
    tab.close()
