"""An NGO's share kit without servers: its links round-trip through the channels' own referral
parsers, its QR codes decode back to the links, a missing setting gives no link, and the leaflet
shows only numbers from content/hotlines.yaml. Also the two settings the kit reads."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import zxingcpp
from PIL import Image

from bot import line_channel, telegram_channel
from bot.ngos import NGO
from bot.settings import Settings, SettingsError
from bot.webchat import REFERRAL_PATTERN
from handoff.leaflet import COUNTRIES, leaflet
from handoff.share_kit import GREETINGS, is_local, kit, qr_png, qr_svg
from hotline.content import gateway_texts, hotlines
from hotline.hotlines import select
from hotline.language import LANGUAGES, detect

SECRETS = {"DEPLOYMENT": "local", "ID_SECRET": "a" * 64, "MESSAGE_KEY": "k" * 43 + "="}
ACCOUNTS = {"TELEGRAM_BOT_USERNAME": "@hotline_help_bot", "LINE_ACCOUNT_ID": "@hotline"}
CODES = ["mekong-aid", "NGO_7", "x", "a" * 64]


def settings(**env: str) -> Settings:
    """Settings with throw-away secrets and these variables."""
    return Settings.from_env({**SECRETS, **env})


def ngo(code: str = "mekong-aid", languages: tuple[str, ...] = ("th",)) -> NGO:
    return NGO(code, "Mekong Aid", languages)


@pytest.mark.parametrize("code", CODES)
def test_the_telegram_link_starts_the_bot_with_the_code(code: str) -> None:
    link = kit(ngo(code), settings(**ACCOUNTS)).link("telegram")
    assert link and link.url == f"https://t.me/hotline_help_bot?start={code}"
    # Telegram sends the start parameter to the bot as "/start <parameter>".
    start = parse_qs(urlsplit(link.url).query)["start"][0]
    assert telegram_channel._referral(f"/start {start}") == code


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", CODES)
def test_the_line_link_prefills_a_greeting_that_the_line_channel_reads(
    language: str, code: str
) -> None:
    link = kit(ngo(code, (language, "th")), settings(**ACCOUNTS)).link("line")
    assert link and link.url.startswith("https://line.me/R/oaMessage/@hotline/?")
    # LINE puts the percent-decoded query into the input field as the first message.
    text = unquote(urlsplit(link.url).query)
    assert text == link.message == f"{GREETINGS[language]} ref:{code}"
    rest, found = line_channel._referral(text)
    assert (rest, found) == (GREETINGS[language], code)
    assert detect(rest) == language, "the greeting is in the NGO's first language"


def test_the_web_link_and_the_widget_tag_carry_the_code() -> None:
    found = kit(ngo(), settings(**ACCOUNTS, PUBLIC_URL="https://hotline.example.org/"))
    web = found.link("web")
    assert web and web.url == "https://hotline.example.org/?ref=mekong-aid"
    assert re.match(REFERRAL_PATTERN, parse_qs(urlsplit(web.url).query)["ref"][0])
    assert found.widget == (
        '<script src="https://hotline.example.org/widget.js" data-ref="mekong-aid" defer></script>'
    )
    assert not found.web_is_local


def test_without_a_public_url_the_web_link_is_this_machines_and_says_so() -> None:
    found = kit(ngo(), settings(BOT_PORT="8123"))
    web = found.link("web")
    assert web and web.url == "http://127.0.0.1:8123/?ref=mekong-aid"
    assert found.web_is_local
    assert is_local("http://localhost:8000") and is_local("http://127.0.1.1")
    assert not is_local("https://hotline.example.org")


def test_a_missing_setting_gives_no_link_and_names_the_setting() -> None:
    found = kit(ngo(), settings())
    assert [(link.channel, link.url, link.missing) for link in found.links[:2]] == [
        ("telegram", "", "TELEGRAM_BOT_USERNAME"),
        ("line", "", "LINE_ACCOUNT_ID"),
    ]
    assert found.link("sms") is None


@pytest.mark.parametrize("channel", ["telegram", "line", "web"])
def test_a_qr_code_decodes_back_to_its_link(channel: str) -> None:
    link = kit(ngo(languages=("km",)), settings(**ACCOUNTS)).link(channel)
    assert link
    png = qr_png(link.url)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.width >= 290, "big enough to print"
    (code,) = zxingcpp.read_barcodes(image)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.text == link.url
    assert code.ec_level in ("M", "Q", "H")
    assert image.getpixel((5, 5)) == image.getpixel((image.width - 5, image.height - 5)) != 0, (
        "a light quiet zone around the code"
    )


def test_the_svg_scales_and_names_its_link() -> None:
    svg = qr_svg("https://t.me/hotline_help_bot?start=ngo")
    assert svg.startswith("<?xml") and "<svg" in svg and 'viewBox="0 0 ' in svg
    assert "<title>https://t.me/hotline_help_bot?start=ngo</title>" in svg


@pytest.mark.parametrize(
    ("value", "kept"), [("@hotline_help_bot", "hotline_help_bot"), ("HotlineBot", "HotlineBot")]
)
def test_the_telegram_username_may_have_its_at(value: str, kept: str) -> None:
    assert settings(TELEGRAM_BOT_USERNAME=value).telegram_bot_username == kept


@pytest.mark.parametrize("value", ["@abot", "hotline", "hot-line_bot", "a" * 30 + "bot", "t.me/x"])
def test_a_wrong_telegram_username_is_named(value: str) -> None:
    with pytest.raises(SettingsError, match="^TELEGRAM_BOT_USERNAME must be .* @BotFather"):
        settings(TELEGRAM_BOT_USERNAME=value)


def test_the_line_account_id_keeps_its_at() -> None:
    assert settings(LINE_ACCOUNT_ID=" @Hotline ").line_account_id == "@hotline"
    assert settings().line_account_id == settings().telegram_bot_username == ""


@pytest.mark.parametrize("value", ["hotline", "@", "@has space", "@" + "a" * 21, "@a/b"])
def test_a_wrong_line_account_id_is_named(value: str) -> None:
    with pytest.raises(SettingsError, match="^LINE_ACCOUNT_ID must be .* '@'"):
        settings(LINE_ACCOUNT_ID=value)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("country", COUNTRIES)
def test_the_leaflet_lists_the_countrys_lines_for_the_language(language: str, country: str) -> None:
    shown = leaflet(kit(ngo(), settings(**ACCOUNTS)), language, country, "")
    numbers = {line.number for line in shown.lines}
    assert {line.number for line in select(country, language, ["emergency"])} <= numbers
    assert numbers <= {line.number for line in hotlines().values()}
    assert all(line.name[language] for line in shown.lines)
    for key, text in shown.texts.items():
        assert "{" not in text, key
        if key != "shared_by":
            assert detect(text) == language, (key, text)
    assert gateway_texts()["safe_word"][language] in shown.texts["leave_quickly"]
    assert "Mekong Aid" in shown.texts["shared_by"]


def test_the_leaflet_leaves_out_a_web_link_nobody_else_can_open() -> None:
    local = leaflet(kit(ngo(), settings(**ACCOUNTS)), "th", "th", "")
    assert [link.channel for link in local.links] == ["telegram", "line"]
    public = kit(ngo(), settings(**ACCOUNTS, PUBLIC_URL="https://hotline.example.org"))
    assert [link.channel for link in leaflet(public, "vi", "th", "").links][-1] == "web"
    assert leaflet(public, "km", "th", "mango").texts["leave_quickly"].count("mango") == 1


def test_a_leaflet_in_another_language_or_country_is_refused() -> None:
    with pytest.raises(ValueError):
        leaflet(kit(ngo(), settings()), "en", "th", "")
    with pytest.raises(ValueError):
        leaflet(kit(ngo(), settings()), "th", "other", "")
