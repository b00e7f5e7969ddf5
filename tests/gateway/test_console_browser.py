"""The console in a real browser (Playwright driving Debian's Chromium): a person writes in Khmer
through the stand-in Telegram, screens high and asks for a person; the queue shows it live with the
alert; an operator claims it, reads the summary in English, sends a ready-made reply that arrives in
Khmer, and closes; the assistant answers again. Screenshots go to results/console/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.store import ONLINE, conversation_key
from hotline.content import canned_replies, gateway_texts
from hotline.language import detect
from tests.gateway.conftest import Stack
from tests.gateway.test_console import PASSWORD, Hotline, make_user
from tests.gateway.test_telegram import Chat, texts
from tests.servers import ROOT
from tests.waiting import until

pytestmark = pytest.mark.servers

SHOTS = ROOT / "results" / "console"


def signed_in(browser: Browser, stack: Hotline, name: str) -> Page:
    """A console tab at 1366x768, signed in."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{stack.url}/console")
    page.fill("input[name=user]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#queue")).to_be_visible()
    return page


def screen_high_in_khmer(chat: Chat) -> None:
    """A Khmer screening with coercion signs (not free to leave, papers kept, a debt): high."""
    chat.say("សួស្តី")
    consent = chat.say("ខ្ញុំចង់ពិនិត្យស្ថានភាពរបស់ខ្ញុំ")
    assert detect(texts(consent)) == "km"
    chat.press("/affirm")
    chat.press('/choose_country{"country":"th"}')
    for answer in ["/deny", "/cannot_leave", "/affirm", "/affirm", "/unsure", "/skip"] + [
        "/deny"
    ] * 3:
        result = chat.press(answer)
    assert "•" in texts(result), "the result lists the signs found"
    chat.press("/affirm", replies=2)


def test_an_operator_works_a_khmer_handoff_in_the_browser(stack: Stack, browser: Browser) -> None:
    operator = signed_in(browser, stack, make_user(stack, role="supervisor"))
    chat = Chat(stack)
    conv = stack.conv(str(chat.id), "telegram")

    screen_high_in_khmer(chat)
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"
    row = operator.locator(f"tr[data-conv='{conv}']")
    expect(row).to_be_visible(timeout=10_000)  # live: the page was not reloaded
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("Khmer")
    expect(operator.locator("body")).to_have_attribute("data-alerts", "1")
    assert operator.title().startswith("(1) ")
    operator.screenshot(path=str(SHOTS / "queue.png"))

    row.locator("a.open").click()
    expect(operator.locator(".summary")).to_contain_text("Risk")
    expect(operator.locator(".answers")).to_contain_text(
        "Does someone else keep your passport or ID against your will?"
    )
    operator.click("#claim")
    expect(operator.locator(".holder")).to_be_visible()

    before = len(stack.telegram.sent(chat.id))
    operator.select_option("#canned", "hello")
    operator.click("#send")
    hello = next(reply for reply in canned_replies() if reply.id == "hello").text["km"]
    arrived = _wait_sent(stack, chat.id, before + 1)
    assert arrived[-1]["text"] == hello, "the ready-made reply arrives in Khmer"

    chat.telegram.queue_update(chat.telegram.text_update(chat.id, "បាទ ខ្ញុំមានសុវត្ថិភាព"))
    expect(operator.locator("#transcript")).to_contain_text("បាទ ខ្ញុំមានសុវត្ថិភាព")
    expect(operator.locator("#transcript .pressed").first).to_be_visible()
    operator.screenshot(path=str(SHOTS / "conversation.png"), full_page=True)
    operator.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
    assert operator.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    operator.screenshot(path=str(SHOTS / "conversation-tablet.png"), full_page=True)
    operator.set_viewport_size({"width": 1366, "height": 768})

    operator.on("dialog", lambda dialog: dialog.accept())
    operator.click("#close")
    closing = _wait_sent(stack, chat.id, before + 2)[-1]["text"]
    assert closing == gateway_texts()["handoff_closed"]["km"]
    assert stack.redis.hget(conversation_key(conv), "state") == "closed"

    again = chat.say("សួស្តី")
    assert detect(texts(again)) == "km", "the assistant answers again"

    operator.goto(f"{stack.url}/console/audit?conv={conv}")
    for action in ("viewed", "took", "replied", "closed"):
        expect(operator.locator("table.audit")).to_contain_text(action)

    operator.get_by_role("button", name="ภาษาไทย").click()
    expect(operator.locator("header")).to_contain_text("คอนโซลสายด่วน")
    expect(operator.locator("table.audit")).to_contain_text("รับเรื่อง")
    operator.close()


def test_danger_said_while_waiting_shows_in_red_with_what_was_understood(
    stack: Stack, browser: Browser
) -> None:
    operator = signed_in(browser, stack, make_user(stack))
    chat = Chat(stack)
    conv = stack.conv(str(chat.id), "telegram")
    chat.say("cho gặp nhân viên", replies=2)
    row = operator.locator(f"tr[data-conv='{conv}']")
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("Not screened")

    said = texts(chat.say("cứu tôi, họ đang đánh tôi, tôi bị nhốt"))
    assert "☎ 113" in said, "the emergency numbers, at once"
    expect(row).to_contain_text("Immediate", timeout=10_000)  # live, no reload
    expect(row.locator(".danger-said")).to_have_text("Danger said while waiting")
    expect(operator.locator("body")).to_have_attribute("data-alerts", "1")
    assert operator.title().startswith("(1) ")
    above = operator.locator("table.rows:not(.recent) tbody tr").evaluate_all(
        f"rows => rows.slice(0, rows.findIndex(r => r.dataset.conv === '{conv}'))"
        ".map(r => r.className)"
    )
    assert all(kind == "risk-immediate" for kind in above), "on top, with the immediate ones"
    operator.screenshot(path=str(SHOTS / "danger-queue.png"))

    row.locator("a.open").click()
    expect(operator.locator(".danger-banner")).to_contain_text("Danger said while waiting")
    gloss = operator.locator("#transcript .gloss-danger")
    expect(gloss).to_have_text("→ Says they are in danger now")
    expect(operator.locator("#transcript .gloss").first).to_have_text("→ Asks for a person")
    expect(operator.locator("#transcript .machine").last).to_contain_text("[vi→en] cứu tôi")
    gloss.scroll_into_view_if_needed()
    operator.screenshot(path=str(SHOTS / "danger-conversation.png"), full_page=True)
    operator.click("#claim")
    expect(operator.locator("#canned optgroup[label='Safety'] option")).to_have_count(10)
    expect(operator.locator("#risk")).to_have_value("immediate")
    operator.close()


def test_with_nobody_online_the_person_is_told_and_stays_queued(stack: Stack) -> None:
    stack.redis.delete(ONLINE)
    chat = Chat(stack)
    chat.say("xin chào")
    said = texts(chat.say("cho gặp nhân viên", replies=3))
    assert gateway_texts()["no_operator"]["vi"] in said
    assert "☎" in said.split(gateway_texts()["no_operator"]["vi"])[1], "with numbers to call"
    conv = stack.conv(str(chat.id), "telegram")
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"


def _wait_sent(stack: Stack, chat_id: int, count: int, seconds: float = 15) -> list[dict[str, str]]:
    until(
        lambda: len(stack.telegram.sent(chat_id)) >= count,
        seconds,
        lambda: f"{count} messages to chat {chat_id}; arrived: {stack.telegram.sent(chat_id)}",
    )
    return stack.telegram.sent(chat_id)
