"""An NGO's share kit: the links that carry its referral code into each channel (a Telegram
start link, a LINE link with the first message pre-filled, the web chat and its widget tag) and
their QR codes. Only channels whose settings are set get a link: never a made-up one."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import segno

from bot.ngos import NGO
from bot.settings import Settings

CHANNELS = ("telegram", "line", "web")
# The pre-filled first LINE message, in the NGO's first language; the code follows as "ref:<code>".
GREETINGS = {"th": "สวัสดี", "vi": "Xin chào", "km": "សួស្តី"}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
# 10 pixels a module: sharp when printed several centimetres wide. A quiet zone of 4 modules, as
# the QR standard asks.
QR_SCALE = 10
QR_BORDER = 4


@dataclass(frozen=True)
class Link:
    """One channel's link, or the setting that is missing for it. `message`: what a LINE link
    pre-fills; `printed`: the short form a leaflet prints under the QR code."""

    channel: str
    url: str = ""
    missing: str = ""
    message: str = ""
    printed: str = ""


@dataclass(frozen=True)
class Kit:
    """Everything an NGO shares: a link per channel and the widget tag for its site."""

    ngo: NGO
    links: tuple[Link, ...]
    widget: str
    web_base: str
    web_is_local: bool

    def link(self, channel: str) -> Link | None:
        """The channel's link entry; None for a channel that does not exist."""
        return next((link for link in self.links if link.channel == channel), None)


def telegram_link(username: str, code: str) -> str:
    """The t.me link that starts the bot with `/start <code>`."""
    return f"https://t.me/{username}?start={code}"


def line_message(code: str, language: str) -> str:
    """The first LINE message a link pre-fills: a greeting and the `ref:<code>` word."""
    return f"{GREETINGS.get(language, GREETINGS['th'])} ref:{code}"


def line_link(account: str, code: str, language: str) -> str:
    """The line.me link that opens a chat with the account, its first message pre-filled."""
    return f"https://line.me/R/oaMessage/{account}/?{quote(line_message(code, language), safe=':')}"


def web_link(base: str, code: str) -> str:
    """The web chat's own page with the code."""
    return f"{base}/?ref={code}"


def widget_tag(base: str, code: str) -> str:
    """The tag an NGO pastes into its site (bot/static/widget.js)."""
    return f'<script src="{base}/widget.js" data-ref="{code}" defer></script>'


def is_local(url: str) -> bool:
    """Whether a URL points at this machine (no NGO's visitor can reach it)."""
    host = urlsplit(url).hostname or ""
    return host in LOCAL_HOSTS or host.startswith("127.")


def kit(ngo: NGO, settings: Settings) -> Kit:
    """The NGO's share kit under these settings."""
    base = settings.web_base
    web = web_link(base, ngo.code)
    links = (
        _telegram(settings.telegram_bot_username, ngo.code),
        _line(settings.line_account_id, ngo.code, ngo.languages[0] if ngo.languages else "th"),
        Link("web", web, printed=web.split("://", 1)[1]),
    )
    return Kit(ngo, links, widget_tag(base, ngo.code), base, is_local(base))


def _telegram(username: str, code: str) -> Link:
    if not username:
        return Link("telegram", missing="TELEGRAM_BOT_USERNAME")
    url = telegram_link(username, code)
    return Link("telegram", url, printed=url.removeprefix("https://"))


def _line(account: str, code: str, language: str) -> Link:
    if not account:
        return Link("line", missing="LINE_ACCOUNT_ID")
    url = line_link(account, code, language)
    return Link("line", url, message=line_message(code, language), printed=f"LINE {account}")


def qr_png(url: str) -> bytes:
    """A QR code of the link as PNG (error correction M or better, quiet zone, print size)."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()


def qr_svg(url: str) -> str:
    """The same QR code as SVG text: a viewBox and no fixed size, so it scales to any size."""
    out = io.BytesIO()
    qr = segno.make_qr(url, error="m")
    qr.save(out, kind="svg", border=QR_BORDER, title=url, omitsize=True)
    return out.getvalue().decode()
