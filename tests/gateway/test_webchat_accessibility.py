"""The web chat against WCAG 2.2 AA with axe-core in Chromium (issue 19): labels, names of the
buttons (leave quickly, attach, camera, send, the answer buttons), contrast, focus order; on an
empty page and in a conversation with answer buttons shown."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from hotline.content import gateway_texts
from tests.gateway.conftest import Stack

pytestmark = pytest.mark.servers

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page: Page) -> str:
    """What axe-core finds against WCAG 2.2 AA, one line per rule ('' for none)."""
    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    lines = []
    for violation in found.response["violations"]:
        where = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {where}")
    return "\n".join(lines)


def test_the_web_chat_meets_wcag_22_aa(stack: Stack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{stack.url}/")
    expect(page.locator("#text")).to_be_visible()
    assert violations(page) == "", "an empty chat"
    page.fill("#text", "xin chào")
    page.keyboard.press("Enter")
    expect(page.locator("#buttons button").first).to_be_visible(timeout=15_000)
    assert violations(page) == "", "a conversation with answer buttons"
    page.fill("#text", "/help")
    page.keyboard.press("Enter")
    listen = page.locator("#buttons button", has_text=gateway_texts()["listen"]["vi"])
    expect(listen).to_be_visible(timeout=15_000)
    listen.click()
    expect(page.locator("#messages li.sound audio")).to_have_count(1, timeout=15_000)
    assert violations(page) == "", "the menu read aloud: a player and the menu's buttons"
    page.close()
