"""Rights answers for a topic, in the person's language, for the country they are in."""

from __future__ import annotations

from hotline.content import RightsAnswer, rights
from hotline.hotlines import numbers

TOPIC_PREFIX = "rights/"


def topics() -> list[str]:
    """The rights topics, as the part after "rights/"."""
    return list(rights())


def find(topic: str, country: str) -> RightsAnswer:
    """The content entry that answers a topic for a country."""
    for entry in rights()[topic.removeprefix(TOPIC_PREFIX)]:
        if country in entry.countries:
            return entry
    raise KeyError(f"no rights answer for {topic} in {country}")


def answer(topic: str, country: str, language: str) -> str:
    """The whole answer: the text, then the phone lines its roles call for."""
    entry = find(topic, country)
    lines = numbers(country, language, entry.hotline_roles) if entry.hotline_roles else ""
    text = entry.text[language]
    return f"{text}\n\n{lines}" if lines else text
