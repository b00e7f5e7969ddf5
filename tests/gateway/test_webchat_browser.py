"""The web chat in a real browser (Playwright driving Debian's Chromium): leaving quickly, and the
button that takes a waiting hand-off back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route, expect

from hotline.content import gateway_texts
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.servers import ROOT

pytestmark = pytest.mark.servers

NEUTRAL = "https://www.google.com/"
SHOTS = ROOT / "results" / "webchat"


def test_leave_quickly_clears_the_chat_and_its_history_entry(
    stack: Stack, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})

    def neutral(route: Route) -> None:  # this machine has no network: answer for the site
        route.fulfill(body="<title>Google</title>", content_type="text/html")

    page.route(f"{NEUTRAL}**", neutral)
    page.goto(f"{stack.url}/")
    expect(page.locator("#leave-note")).to_contain_text("ลบประวัติของเบราว์เซอร์ไม่ได้")
    page.fill("#text", "สวัสดีครับ")
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.bot").first).to_be_visible(timeout=15_000)

    before = page.evaluate("sessionStorage.getItem('chat.client')")
    page.click("#leave")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    assert not page.url.startswith(stack.url), "the chat's page left the tab's history"

    page.goto(f"{stack.url}/")
    expect(page.locator("#text")).to_be_visible()
    assert page.locator("#messages li").count() == 0, "nothing of the chat is shown again"
    assert page.evaluate("sessionStorage.getItem('chat.lines')") is None
    assert page.evaluate("sessionStorage.getItem('chat.client')") != before, "a new chat"


def test_an_exit_address_that_is_not_https_is_ignored(stack: Stack, browser: Browser) -> None:
    page = browser.new_page()
    page.route(f"{NEUTRAL}**", lambda route: route.fulfill(body="ok", content_type="text/html"))
    page.goto(f"{stack.url}/?exit=javascript:alert(1)")
    page.click("#leave")
    page.wait_for_url(NEUTRAL)


def test_the_safe_word_typed_in_the_chat_leaves_like_the_button(
    stack: Stack, browser: Browser
) -> None:
    page = browser.new_page()
    page.route(f"{NEUTRAL}**", lambda route: route.fulfill(body="ok", content_type="text/html"))
    page.goto(f"{stack.url}/")
    page.fill("#text", "xin chào")
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.bot").last).to_contain_text("hoa nhài", timeout=15_000)
    page.fill("#text", "hoa nhai")
    page.keyboard.press("Enter")
    page.wait_for_url(NEUTRAL, timeout=15_000)
    page.go_back()
    assert not page.url.startswith(stack.url), "the chat's page left the tab's history"


def test_the_button_under_the_waiting_message_goes_back_to_the_assistant(
    stack: Stack, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{stack.url}/")
    page.fill("#text", "ขอคุยกับเจ้าหน้าที่")
    page.keyboard.press("Enter")
    back = page.locator("#buttons button", has_text=gateway_texts()["back_to_assistant"]["th"])
    expect(back).to_be_visible(timeout=15_000)
    page.screenshot(path=str(SHOTS / "waiting.png"), full_page=True)
    back.click()
    withdrawn = page.locator("#messages li.bot", has_text=gateway_texts()["withdrawn"]["th"])
    expect(withdrawn).to_be_visible(timeout=15_000)
    expect(page.locator("#buttons button")).not_to_have_count(0)  # the menu
    expect(back).to_have_count(0)


def test_an_operators_reply_takes_the_waiting_button_away(stack: Stack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{stack.url}/")
    page.fill("#text", "cho gặp nhân viên")
    page.keyboard.press("Enter")
    back = page.locator("#buttons button", has_text=gateway_texts()["back_to_assistant"]["vi"])
    expect(back).to_be_visible(timeout=15_000)
    conv = stack.conv(page.evaluate("sessionStorage.getItem('chat.client')"))
    operator = login(stack, make_user(stack))
    queue = operator.get("/console").text
    operator.post(f"/console/c/{conv}/claim", data={"csrf": _csrf(queue)})
    operator.post(f"/console/c/{conv}/reply", data={"csrf": _csrf(queue), "text": "Xin chào"})
    expect(page.locator("#messages li.bot").last).to_have_text("Xin chào", timeout=15_000)
    expect(back).to_have_count(0)
