"""The web chat in a real browser (Playwright driving Debian's Chromium): leaving quickly, the
button that takes a waiting hand-off back, the chat's id kept out of every URL, and the widget on
an NGO's site (registered or not)."""

from __future__ import annotations

import contextlib
import html
import socket
import threading
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page, Route, expect

from hotline.content import gateway_texts
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.gateway.test_ngo_pages import add_ngo
from tests.servers import ROOT

pytestmark = pytest.mark.servers

NEUTRAL = "https://www.google.com/"
SHOTS = ROOT / "results" / "webchat"
NGO_SITE = "https://ngo.example"
ELSEWHERE = "https://elsewhere.example"
CODE = "widget-ngo"


def site(page: Page, origin: str, body: str) -> None:
    """Answers for a site (this machine has no network): `body` at its root, "left" elsewhere."""

    def answer(route: Route) -> None:
        served = body if route.request.url == f"{origin}/" else "<title>left</title>"
        route.fulfill(body=served, content_type="text/html")

    page.route(f"{origin}/**", answer)


def widget_page(stack: Stack, exit_to: str) -> str:
    """An NGO's page with the widget tag from its share kit, and a data-exit."""
    return (
        f'<!doctype html><title>NGO</title><script src="{stack.url}/widget.js" '
        f'data-ref="{CODE}" data-exit="{html.escape(exit_to)}" defer></script>'
    )


def open_widget(page: Page) -> Frame:
    """Clicks the widget's button and waits until the chat in its frame has loaded: its fields are
    there before chat.js listens to them, and Enter pressed in between would be lost."""
    page.click("button[aria-label^='Chat']")
    holder = page.wait_for_selector("iframe")
    frame = holder.content_frame() if holder else None
    assert frame is not None
    frame.wait_for_url(lambda url: "embed=1" in url, wait_until="load")
    return frame


def visitor(browser: Browser, **options: Any) -> Page:
    """A visitor's tab on an NGO's site. The hotline of the tests is on this machine: a public
    site's page may load from it only with Chromium's local network permission (a real hotline is
    a public site as well)."""
    return browser.new_context(permissions=["local-network-access"], **options).new_page()


class Cable:
    """The network between the browser and the web process: it forwards connections to `port`,
    and the test can cut the open ones, as a phone loses its network for a moment."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []

    def __enter__(self) -> Cable:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        self.cut()

    def cut(self) -> None:
        """Breaks every open connection; new ones go through."""
        for end in self.open:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
        self.open.clear()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.target))
            self.open += [near, far]
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)


@pytest.fixture(scope="module")
def registered(stack: Stack) -> None:
    """The NGO of the widget tests, with its site registered by a supervisor."""
    add_ngo(login(stack, make_user(stack, "supervisor")), CODE, ["vi"], NGO_SITE)


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


@pytest.mark.parametrize(
    "query", ["exit=javascript:alert(1)", f"exit={ELSEWHERE}/", f"ref={CODE}&exit={NGO_SITE}/"]
)
def test_a_crafted_exit_on_the_standalone_page_leaves_to_the_default(
    stack: Stack, browser: Browser, registered: None, query: str
) -> None:
    page = browser.new_page()
    page.route(f"{NEUTRAL}**", lambda route: route.fulfill(body="ok", content_type="text/html"))
    site(page, ELSEWHERE, "elsewhere")
    site(page, NGO_SITE, "ngo")
    page.goto(f"{stack.url}/?{query}")
    page.click("#leave")
    page.wait_for_url(NEUTRAL)


def test_the_chats_id_is_in_no_url_and_the_page_reconnects_with_a_new_ticket(
    stack: Stack, browser: Browser
) -> None:
    port = int(stack.url.rsplit(":", 1)[1])
    page = browser.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    notice = page.locator("#messages li.bot", has_text="/forget")
    with Cable(port) as cable:
        page.goto(f"http://127.0.0.1:{cable.port}/")
        page.fill("#text", "xin chào")
        page.keyboard.press("Enter")
        expect(notice).to_have_count(1, timeout=15_000)
        shown = page.locator("#messages li.bot").count()
        cable.cut()
        expect(page.locator("#status")).to_have_text("…")
        expect(page.locator("#status")).to_have_text("", timeout=15_000)
        page.fill("#text", "hoa hồng")
        page.keyboard.press("Enter")
        expect(page.locator("#messages li.bot")).not_to_have_count(shown, timeout=15_000)
        expect(notice).to_have_count(1)  # resumed after the last reply shown: none shown twice
        client = page.evaluate("sessionStorage.getItem('chat.client')")
        page.close()

    assert client and not [url for url in urls if client in url]
    streams = [url for url in urls if "/chat/events?" in url]
    assert len(streams) >= 2 and all("ticket=" in url for url in streams)
    assert len(set(streams)) == len(streams), "a new ticket for each stream"


def test_the_widget_on_a_registered_site_chats_and_leaves_to_its_exit(
    stack: Stack, browser: Browser, registered: None
) -> None:
    page = visitor(browser, viewport={"width": 390, "height": 800})
    site(page, NGO_SITE, widget_page(stack, f"{NGO_SITE}/news"))
    page.goto(f"{NGO_SITE}/")
    chat = open_widget(page)
    chat.locator("#text").fill("xin chào")
    chat.locator("#text").press("Enter")
    expect(chat.locator("#messages li.bot").first).to_be_visible(timeout=15_000)
    chat.locator("#leave").click()
    page.wait_for_url(f"{NGO_SITE}/news")


def test_the_widget_leaves_to_the_default_when_its_exit_is_another_site(
    stack: Stack, browser: Browser, registered: None
) -> None:
    page = visitor(browser)
    page.route(f"{NEUTRAL}**", lambda route: route.fulfill(body="ok", content_type="text/html"))
    site(page, ELSEWHERE, "elsewhere")
    site(page, NGO_SITE, widget_page(stack, f"{ELSEWHERE}/"))
    page.goto(f"{NGO_SITE}/")
    open_widget(page).locator("#leave").click()
    page.wait_for_url(NEUTRAL)


def test_a_site_that_is_not_registered_cannot_show_the_chat(
    stack: Stack, browser: Browser, registered: None
) -> None:
    page = visitor(browser)
    site(page, ELSEWHERE, widget_page(stack, f"{ELSEWHERE}/"))
    page.goto(f"{ELSEWHERE}/")
    # The browser says why it refused the frame: wait for that, not for a while.
    with page.expect_console_message(
        lambda message: "frame-ancestors" in message.text, timeout=15_000
    ):
        page.click("button[aria-label^='Chat']")
    expect(page.locator("iframe")).to_have_count(1)
    assert page.frame_locator("iframe").locator("#text").count() == 0


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


def test_the_listen_button_plays_the_menu_in_the_page(stack: Stack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{stack.url}/")
    page.fill("#text", "สวัสดีครับ")
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.bot").first).to_be_visible(timeout=15_000)
    page.fill("#text", "/help")
    page.keyboard.press("Enter")
    listen = page.locator("#buttons button", has_text=gateway_texts()["listen"]["th"])
    expect(listen).to_be_visible(timeout=15_000)
    listen.click()
    player = page.locator("#messages li.sound audio")
    expect(player).to_have_count(1, timeout=15_000)
    expect(page.locator("#buttons button", has_text="เช็กสถานการณ์ของฉัน")).to_be_visible()
    seconds = player.evaluate(
        """(audio) => new Promise((loaded, failed) => {
             audio.addEventListener("loadedmetadata", () => loaded(audio.duration));
             const last = audio.querySelector("source:last-child");
             last.addEventListener("error", () => failed("no source played"));
             audio.load();
           })"""
    )
    assert seconds > 2, "the browser decoded the menu read aloud"
    page.screenshot(path=str(SHOTS / "listen.png"), full_page=True)
