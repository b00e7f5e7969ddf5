"""The NGO share kit in a real browser (Playwright driving Debian's Chromium): a supervisor opens
an NGO's kit, downloads its Telegram QR code as PNG and as SVG, and both decode back to exactly the
Telegram link; each leaflet prints on one A4 page, and its QR codes still decode from the screen.
Screenshots and the leaflets' PDFs go to results/share_kit/."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from handoff.share_kit import line_link, telegram_link
from hotline.language import LANGUAGES
from tests.gateway.conftest import Stack
from tests.gateway.test_console import PASSWORD, login, make_user
from tests.gateway.test_ngo_pages import add_ngo
from tests.servers import LINE_ACCOUNT, ROOT, TELEGRAM_BOT

pytestmark = pytest.mark.servers

SHOTS = ROOT / "results" / "share_kit"
CODE = "browser-ngo"
# A PDF page object, not the page tree ("/Type /Pages").
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?!s)")


def decoded(image: bytes) -> list[str]:
    """The texts of the QR codes in an image."""
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(image)))]


def signed_in(browser: Browser, stack: Stack, errors: list[str]) -> Page:
    """A supervisor's console tab (1366x768, sharp screenshots); its console errors (a CSP
    violation, a script error) are collected, but for the favicon the app does not have."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(
        viewport={"width": 1366, "height": 768}, device_scale_factor=2, accept_downloads=True
    )

    def collect(message: ConsoleMessage) -> None:
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):
            errors.append(f"{message.text} {where}")

    page.on("console", collect)
    page.goto(f"{stack.url}/console")
    page.fill("input[name=user]", make_user(stack, role="supervisor"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#queue")).to_be_visible()
    return page


@pytest.fixture(scope="module")
def registered(stack: Stack) -> None:
    """The NGO of this module, registered by another supervisor (Vietnamese)."""
    add_ngo(login(stack, make_user(stack, "supervisor")), CODE, ["vi"])


def test_the_downloaded_qr_codes_decode_to_the_telegram_link(
    stack: Stack, browser: Browser, registered: None
) -> None:
    errors: list[str] = []
    page = signed_in(browser, stack, errors)
    page.goto(f"{stack.url}/console/ngos")
    page.locator(f"a.kit[href$='/{CODE}/kit']").click()
    expect(page.locator("h1")).to_contain_text(f"NGO {CODE}")
    shown = page.locator("img.kit-qr")
    expect(shown).to_have_count(3)
    # Waited for: they load after the heading shows; blocked by the CSP, they never would.
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.kit-qr')]"
        ".every(img => img.complete && img.naturalWidth > 0)",
        timeout=10_000,
    )
    page.screenshot(path=str(SHOTS / "kit.png"), full_page=True)
    expected = telegram_link(TELEGRAM_BOT, CODE)

    with page.expect_download() as png_download:
        page.click("#kit-telegram a.png")
    png = png_download.value
    assert png.suggested_filename == f"{CODE}-telegram.png"
    assert decoded(Path(png.path()).read_bytes()) == [expected]

    with page.expect_download() as svg_download:
        page.click("#kit-telegram a.svg")
    svg = svg_download.value
    assert svg.suggested_filename == f"{CODE}-telegram.svg"
    # The SVG as Chromium draws it, on a blank page of its own (no console CSP there).
    source = base64.b64encode(Path(svg.path()).read_bytes()).decode()
    drawn = browser.new_page()
    drawn.set_content(
        f'<body style="margin:0;background:#fff"><img width="400" height="400" '
        f'src="data:image/svg+xml;base64,{source}"></body>'
    )
    shot = drawn.screenshot(path=str(SHOTS / "telegram-svg-drawn.png"))
    assert decoded(shot) == [expected]
    drawn.close()
    assert not errors, errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_leaflet_prints_on_one_a4_page(
    stack: Stack, browser: Browser, registered: None, language: str
) -> None:
    errors: list[str] = []
    page = signed_in(browser, stack, errors)
    page.goto(f"{stack.url}/console/ngos/{CODE}/leaflet/{language}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#print")).to_be_visible()  # the static script ran
    codes = page.locator(".code img")
    expect(codes).to_have_count(2)  # Telegram and LINE; the local web address is left out
    shot = page.screenshot(path=str(SHOTS / f"leaflet-{language}.png"), full_page=True)
    printed = page.locator(".code .url").all_inner_texts()
    assert printed == [f"t.me/{TELEGRAM_BOT}?start={CODE}", f"LINE {LINE_ACCOUNT}"]
    # The NGO's language is Vietnamese: its LINE link greets in Vietnamese, whatever the leaflet's.
    expected = {telegram_link(TELEGRAM_BOT, CODE), line_link(LINE_ACCOUNT, CODE, "vi")}
    assert set(decoded(shot)) == expected, "the codes on the page scan"

    pdf = page.pdf(format="A4", print_background=True)
    (SHOTS / f"leaflet-{language}.pdf").write_bytes(pdf)
    assert len(PAGE_OBJECT.findall(pdf)) == 1, "one A4 page"
    assert not errors, errors
