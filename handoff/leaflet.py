"""The printable one-page leaflet an NGO hands out, in Thai, Vietnamese or Khmer: what the chat
is, how to reach it (the kit's links and QR codes), how to leave quickly, and the phone lines of a
country, rendered from content/hotlines.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from bot.safety import QuickExit
from handoff.share_kit import Kit, Link
from hotline.content import Hotline, country_names, leaflet_texts
from hotline.hotlines import lines_for
from hotline.language import LANGUAGES

COUNTRIES = ("th", "vn", "kh")
ROLES = ("emergency", "trafficking")


@dataclass(frozen=True)
class Leaflet:
    """What one leaflet shows, in its language."""

    language: str
    country: str
    texts: dict[str, str]
    links: tuple[Link, ...]
    lines: tuple[Hotline, ...]


def leaflet(kit: Kit, language: str, country: str, safe_word: str) -> Leaflet:
    """The kit's leaflet in a language (th, vi, km), with the lines of a country (th, vn, kh)."""
    if language not in LANGUAGES or country not in COUNTRIES:
        raise ValueError(f"no leaflet in {language!r} for {country!r}")
    values = {
        "word": QuickExit(safe_word).word(language),
        "country": country_names()[country][language],
        "name": kit.ngo.name,
    }
    texts = {key: text[language].format(**values) for key, text in leaflet_texts().items()}
    lines = lines_for(country, language, ROLES)
    # A web address on this machine would be useless on paper; the kit page says so.
    links = tuple(
        link for link in kit.links if link.url and not (link.channel == "web" and kit.web_is_local)
    )
    return Leaflet(language, country, texts, links, tuple(lines))
