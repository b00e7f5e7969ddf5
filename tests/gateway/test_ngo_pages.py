"""The NGO share kit's console pages over HTTP against the running stack: supervisors only, a
404 page for what does not exist, QR files that decode to the kit's links, leaflets with the
country's numbers from content/hotlines.yaml, and no link for a channel whose setting is unset."""

from __future__ import annotations

import html
import io
import re

import httpx
import pytest
import zxingcpp
from PIL import Image

from bot.store import AUDIT
from handoff.leaflet import COUNTRIES, ROLES
from hotline.hotlines import HOME, select
from hotline.language import LANGUAGES
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.servers import LINE_ACCOUNT, TELEGRAM_BOT, free_port, gateway

pytestmark = pytest.mark.servers

PHONE = re.compile(r'<span class="number">☎ ([^<]+)</span>')


def add_ngo(client: httpx.Client, code: str, languages: list[str], sites: str = "") -> None:
    """Registers an NGO through the console's form."""
    csrf = _csrf(client.get("/console/ngos").text)
    form = {"csrf": csrf, "code": code, "name": f"NGO {code}", "languages": languages}
    assert client.post("/console/ngos", data={**form, "sites": sites}).status_code == 303


@pytest.fixture(scope="module")
def supervisor(stack: Stack) -> httpx.Client:
    """A signed-in supervisor; the NGO "kit-ngo" (Thai and Khmer) is registered."""
    client = login(stack, make_user(stack, "supervisor"))
    add_ngo(client, "kit-ngo", ["th", "km"])
    return client


def test_a_supervisor_sees_the_kit_with_every_channels_link(
    stack: Stack, supervisor: httpx.Client
) -> None:
    listed = supervisor.get("/console/ngos").text
    assert 'href="/console/ngos/kit-ngo/kit"' in listed
    page = supervisor.get("/console/ngos/kit-ngo/kit")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f'value="https://t.me/{TELEGRAM_BOT}?start=kit-ngo"' in text
    # The NGO's first language is Thai (languages are kept in th, vi, km order).
    line = f"https://line.me/R/oaMessage/{LINE_ACCOUNT}/?%E0%B8%AA%E0%B8%A7%E0%B8%B1%E0%B8%AA"
    assert f'value="{line}' in text and "สวัสดี ref:kit-ngo" in text
    assert f'value="{stack.url}/?ref=kit-ngo"' in text
    assert f'<script src="{stack.url}/widget.js" data-ref="kit-ngo" defer></script>' in text
    assert "nobody else can open it" in text, "the local web address is called what it is"
    for channel in ("telegram", "line", "web"):
        assert f'src="/console/ngos/kit-ngo/qr/{channel}.svg"' in text
        assert f'href="/console/ngos/kit-ngo/qr/{channel}.png" download' in text
    for language in LANGUAGES:
        assert f'href="/console/ngos/kit-ngo/leaflet/{language}"' in text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    viewed = [f for _, f in stack.redis.xrevrange(AUDIT, count=50) if f["action"] == "kit_viewed"]
    assert viewed and viewed[0]["detail"] == "kit-ngo"


def test_an_ngos_sites_are_kept_shown_and_listed_in_its_kit(supervisor: httpx.Client) -> None:
    typed = "https://Sites.example/ https://sites.example:8443"
    add_ngo(supervisor, "sites-ngo", ["vi"], typed)
    listed = supervisor.get("/console/ngos").text
    assert "<td>https://sites.example https://sites.example:8443</td>" in listed
    editing = supervisor.get("/console/ngos", params={"code": "sites-ngo"}).text
    assert 'name="sites" value="https://sites.example https://sites.example:8443"' in editing
    kit = supervisor.get("/console/ngos/sites-ngo/kit").text
    assert "<code>https://sites.example</code> · <code>https://sites.example:8443</code>" in kit
    assert "opens on no site" in supervisor.get("/console/ngos/kit-ngo/kit").text


@pytest.mark.parametrize(
    ("sites", "said"),
    [
        ("http://plain.example", "http://plain.example is not an https address"),
        ("https://plain.example/chat", "https://plain.example/chat: the site&#39;s address only"),
    ],
)
def test_the_form_refuses_a_site_that_is_not_an_https_origin(
    supervisor: httpx.Client, sites: str, said: str
) -> None:
    page = supervisor.get("/console/ngos").text
    form = {"csrf": _csrf(page), "code": "plain-ngo", "name": "Plain", "languages": ["th"]}
    refused = supervisor.post("/console/ngos", data={**form, "sites": sites})
    assert refused.status_code == 400
    assert said in refused.text
    assert f'name="sites" value="{sites}"' in refused.text, "shown again as typed"
    assert "plain-ngo" not in supervisor.get("/console/ngos").text, "nothing saved"


def test_operators_may_not_see_a_kit(stack: Stack, supervisor: httpx.Client) -> None:
    operator = login(stack, make_user(stack))
    for path in ("kit", "qr/telegram.png", "qr/web.svg", "leaflet/th"):
        assert operator.get(f"/console/ngos/kit-ngo/{path}").status_code == 403, path


@pytest.mark.parametrize(
    "path",
    [
        "no-such-ngo/kit",
        "no-such-ngo/qr/telegram.png",
        "kit-ngo/qr/sms.png",
        "kit-ngo/qr/telegram.gif",
        "kit-ngo/leaflet/en",
        "kit-ngo/leaflet/th?country=other",
        "no-such-ngo/leaflet/th",
    ],
)
def test_what_does_not_exist_is_a_404_page(supervisor: httpx.Client, path: str) -> None:
    response = supervisor.get(f"/console/ngos/{path}")
    assert response.status_code == 404
    assert "There is no NGO with this code" in response.text


def test_a_malformed_code_is_refused(supervisor: httpx.Client) -> None:
    assert supervisor.get("/console/ngos/has%20space/kit").status_code == 422
    assert supervisor.get(f"/console/ngos/{'x' * 65}/kit").status_code == 422


@pytest.mark.parametrize("channel", ["telegram", "line", "web"])
def test_the_qr_files_are_downloads_that_decode_to_the_links(
    stack: Stack, supervisor: httpx.Client, channel: str
) -> None:
    page = html.unescape(supervisor.get("/console/ngos/kit-ngo/kit").text)
    found = re.search(
        rf'id="kit-{channel}">.*?class="kit-link" readonly value="([^"]+)"', page, re.S
    )
    assert found
    png = supervisor.get(f"/console/ngos/kit-ngo/qr/{channel}.png")
    assert png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == f'attachment; filename="kit-ngo-{channel}.png"'
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert code.text == found.group(1)
    svg = supervisor.get(f"/console/ngos/kit-ngo/qr/{channel}.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["content-disposition"] == f'attachment; filename="kit-ngo-{channel}.svg"'
    assert svg.text.startswith("<?xml") and "<svg" in svg.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("country", COUNTRIES)
def test_the_leaflet_shows_the_countrys_numbers_for_its_language(
    supervisor: httpx.Client, language: str, country: str
) -> None:
    query = "" if country == HOME[language] else f"?country={country}"
    page = supervisor.get(f"/console/ngos/kit-ngo/leaflet/{language}{query}")
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    expected = [line.number for line in select(country, language, ROLES)]
    if country != HOME[language]:
        expected += [line.number for line in select("other", language, ["abroad"])]
    assert PHONE.findall(page.text) == expected
    assert "NGO kit-ngo" in page.text
    assert '<script src="/console/static/leaflet.js" defer></script>' in page.text
    assert "<script>" not in page.text and " style=" not in page.text, "nothing inline (CSP)"


def test_a_channel_without_its_setting_gets_no_link_and_names_the_setting(
    stack: Stack, supervisor: httpx.Client
) -> None:
    unset = {"TELEGRAM_BOT_USERNAME": "", "LINE_ACCOUNT_ID": "", "TELEGRAM_TOKEN": ""}
    env = {**stack.env, **unset, "BOT_PORT": str(free_port())}
    with gateway(env, stack.logs) as url:
        client = httpx.Client(base_url=url, cookies=supervisor.cookies, timeout=10)
        page = client.get("/console/ngos/kit-ngo/kit")
        assert page.status_code == 200
        assert "<code>TELEGRAM_BOT_USERNAME</code>" in page.text
        assert "<code>LINE_ACCOUNT_ID</code>" in page.text
        assert "t.me/" not in page.text and "line.me/" not in page.text
        assert client.get("/console/ngos/kit-ngo/qr/telegram.png").status_code == 404
        assert client.get("/console/ngos/kit-ngo/qr/line.svg").status_code == 404
        assert client.get("/console/ngos/kit-ngo/qr/web.png").status_code == 200
        leaflet = client.get("/console/ngos/kit-ngo/leaflet/th").text
        assert "/qr/" not in leaflet, "no code on paper that nobody could use"
