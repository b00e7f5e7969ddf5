"""Which phone lines to show a person, and how they read on a phone screen."""

from __future__ import annotations

from collections.abc import Iterable

from hotline.content import Hotline, country_names, hotlines

EMERGENCY_COUNTRIES = ("th", "vn", "kh")
# Lines offered while a person waits for an operator.
HANDOFF_ROLES = ("emergency", "trafficking", "abroad")


def select(country: str, language: str | None, roles: Iterable[str]) -> list[Hotline]:
    """The lines of a country that have one of the roles and suit a speaker of the language."""
    wanted = set(roles)
    return [
        line
        for line in hotlines().values()
        if line.country == country
        and wanted & set(line.roles)
        and (line.for_languages is None or language in line.for_languages)
    ]


def format_lines(lines: Iterable[Hotline], language: str | None) -> str:
    """One line per number: "☎ 1300 — name"; numbers alone while the language is unknown."""
    if language is None:
        return "\n".join(f"☎ {line.number}" for line in lines)
    return "\n".join(f"☎ {line.number} — {line.name[language]}" for line in lines)


def emergency(country: str | None, language: str | None) -> str:
    """Emergency numbers: for the country, or for each country we know when it is unknown."""
    if country in EMERGENCY_COUNTRIES:
        return format_lines(select(country, language, ["emergency"]), language)
    blocks = []
    if country == "other":
        abroad = select("other", language, ["abroad"])
        if abroad:
            blocks.append(format_lines(abroad, language))
    for code in EMERGENCY_COUNTRIES:
        name = country_names()[code][language or "en"]
        blocks.append(f"{name}:\n" + format_lines(select(code, language, ["emergency"]), language))
    return "\n\n".join(blocks)


def while_waiting(country: str | None, language: str | None) -> str:
    """The lines to call while waiting for a person: the country's emergency, anti-trafficking and
    abroad lines that suit the language; emergency numbers when the country is not known."""
    lines = select(country, language, HANDOFF_ROLES) if country and language else []
    return format_lines(lines, language) if lines else emergency(country, language)
