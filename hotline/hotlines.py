"""Which phone lines to show a person, and how they read on a phone screen.

One rule table (README, "Which numbers a person sees") for the bot and the leaflet:
- in Thailand, Vietnam or Cambodia: that country's lines with the roles asked for that suit the
  person's language; for a Thai speaker outside Thailand, also the line for Thais abroad;
- in another country, or not known yet: each of the three countries' lines with those roles, under
  its name and "(from a phone in that country)", after the line for Thais abroad for a Thai
  speaker;
- a screening that found the person under 18: also the child lines.
"""

from __future__ import annotations

from collections.abc import Iterable

from hotline.content import Hotline, country_names, gateway_texts, hotlines

KNOWN_COUNTRIES = ("th", "vn", "kh")
# Where the speakers of a language are at home: lines for people abroad are offered elsewhere.
HOME = {"th": "th", "vi": "vn", "km": "kh"}
# Lines offered while a person waits for an operator.
HANDOFF_ROLES = ("emergency", "trafficking", "abroad")


def select(country: str, language: str | None, roles: Iterable[str]) -> list[Hotline]:
    """The lines of one country (or "other": lines for people abroad) that have one of the roles
    and suit a speaker of the language."""
    wanted = set(roles)
    return [
        line
        for line in hotlines().values()
        if line.country == country
        and wanted & set(line.roles)
        and (line.for_languages is None or language in line.for_languages)
    ]


def lines_for(
    country: str, language: str | None, roles: Iterable[str], under_18: bool = False
) -> list[Hotline]:
    """The lines for a person in one of the three countries (the rule table above)."""
    found = select(country, language, _with_child(roles, under_18))
    if language and country != HOME.get(language):
        found += [line for line in select("other", language, ["abroad"]) if line not in found]
    return found


def numbers(
    country: str | None, language: str | None, roles: Iterable[str], under_18: bool = False
) -> str:
    """The lines as a message: for a person in one of the three countries, that country's; for
    one elsewhere or not known yet, each country's under its name, saying a short number works
    only from a phone in that country (the rule table above). Empty when there are none."""
    wanted = _with_child(roles, under_18)
    if country in KNOWN_COUNTRIES:
        return format_lines(lines_for(country, language, wanted), language)
    blocks = []
    abroad = select("other", language, ["abroad"]) if language else []
    if abroad:
        blocks.append(format_lines(abroad, language))
    only_there = gateway_texts()["from_that_country"][language or "en"]
    for code in KNOWN_COUNTRIES:
        lines = select(code, language, wanted)
        if lines:
            name = country_names()[code][language or "en"]
            blocks.append(f"{name} {only_there}:\n" + format_lines(lines, language))
    return "\n\n".join(blocks)


def _with_child(roles: Iterable[str], under_18: bool) -> set[str]:
    """The roles asked for, and the child lines' for a person under 18."""
    return set(roles) | ({"child"} if under_18 else set())


def format_lines(lines: Iterable[Hotline], language: str | None) -> str:
    """One line per number: "☎ 1300 — name"; numbers alone while the language is unknown."""
    if language is None:
        return "\n".join(f"☎ {line.number}" for line in lines)
    return "\n".join(f"☎ {line.number} — {line.name[language]}" for line in lines)


def emergency(country: str | None, language: str | None) -> str:
    """Emergency numbers: for the country, or for each country we know when it is unknown."""
    return numbers(country, language, ["emergency"])


def while_waiting(country: str | None, language: str | None) -> str:
    """The lines to call while waiting for a person: the country's emergency, anti-trafficking and
    abroad lines that suit the language; emergency numbers when the country is not known."""
    if country in KNOWN_COUNTRIES and language:
        return numbers(country, language, HANDOFF_ROLES) or emergency(country, language)
    return emergency(country, language)
