"""The content files under content/: hotlines, rights answers and the screening, loaded and checked.

Every fact in them carries a `source` and a `checked` date; a file that lacks one, or a text that
lacks a language, fails to load with the file and key named, so a wrong edit never reaches a user.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hotline.language import LANGUAGES

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
COUNTRIES = ("th", "vn", "kh", "other")
WITH_EN = (*LANGUAGES, "en")


def bubbles(text: str) -> list[str]:
    """The messages a text is sent as: one per paragraph (a blank line between), so that each
    stays short enough to read on a phone."""
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


class ContentError(ValueError):
    """A content file is malformed: the message names the file and the key."""


Texts = dict[str, str]


@dataclass(frozen=True)
class Hotline:
    """One phone line from FACTS.md, with where it came from."""

    id: str
    country: str
    number: str
    roles: tuple[str, ...]
    name: Texts
    source: str
    checked: dt.date
    confidence: str
    for_languages: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RightsAnswer:
    """The answer to one rights topic for some countries, in every language."""

    topic: str
    countries: tuple[str, ...]
    text: Texts
    hotline_roles: tuple[str, ...]
    source: str
    checked: dt.date


@dataclass(frozen=True)
class Question:
    """One screening question: the slot that holds its answer and its wording."""

    slot: str
    text: Texts


@dataclass(frozen=True)
class Screening:
    """The light screening of CONTRACT.md: consent, questions, sign names, result texts."""

    consent: Texts
    consent_source: str
    consent_checked: dt.date
    questions: tuple[Question, ...]
    signs: dict[str, Texts]
    results: dict[str, Texts]
    answers: dict[str, Texts]
    # Said when an answer does not fit its question (asked again), by question slot.
    say_which: dict[str, Texts]


def _load(name: str) -> dict[str, Any]:
    path = CONTENT_DIR / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top")
    return data


def _texts(where: str, value: Any, languages: tuple[str, ...] = LANGUAGES) -> Texts:
    if not isinstance(value, dict):
        raise ContentError(f"{where}: expected texts by language, got {value!r}")
    missing = [lang for lang in languages if not str(value.get(lang) or "").strip()]
    if missing:
        raise ContentError(f"{where}: no text in {', '.join(missing)}")
    unknown = [str(key) for key in value if key not in WITH_EN]
    if unknown:
        # `{en: a, b, th: ...}` makes "b" a key: a comma in an unquoted text.
        listed = ", ".join(unknown)
        raise ContentError(f"{where}: not a language: {listed} (quote a text with commas)")
    return {lang: str(text).strip() for lang, text in value.items()}


def _provenance(where: str, entry: dict[str, Any]) -> tuple[str, dt.date]:
    source, checked = entry.get("source"), entry.get("checked")
    if not source:
        raise ContentError(f"{where}: no source")
    if not isinstance(checked, dt.date):
        raise ContentError(f"{where}: `checked` must be a date (YYYY-MM-DD), got {checked!r}")
    return str(source), checked


@cache
def hotlines() -> dict[str, Hotline]:
    """All hotlines by id, as content/hotlines.yaml lists them."""
    found: dict[str, Hotline] = {}
    for key, entry in _load("hotlines.yaml").items():
        where = f"hotlines.yaml: {key}"
        source, checked = _provenance(where, entry)
        if entry.get("country") not in COUNTRIES:
            raise ContentError(f"{where}: country must be one of {COUNTRIES}")
        langs = entry.get("for_languages")
        found[key] = Hotline(
            id=key,
            country=entry["country"],
            number=str(entry["number"]),
            roles=tuple(entry.get("roles") or ()),
            name=_texts(f"{where}: name", entry.get("name"), WITH_EN),
            source=source,
            checked=checked,
            confidence=str(entry.get("confidence", "")),
            for_languages=tuple(langs) if langs is not None else None,
        )
    return found


@cache
def rights() -> dict[str, tuple[RightsAnswer, ...]]:
    """Rights answers by topic (the part after "rights/"), each for its countries."""
    found: dict[str, tuple[RightsAnswer, ...]] = {}
    for topic, answers in _load("rights.yaml").items():
        parsed = []
        covered: set[str] = set()
        for index, entry in enumerate(answers):
            where = f"rights.yaml: {topic}[{index}]"
            source, checked = _provenance(where, entry)
            countries = tuple(entry.get("countries") or ())
            if not countries or not set(countries) <= set(COUNTRIES):
                raise ContentError(f"{where}: countries must be some of {COUNTRIES}")
            covered.update(countries)
            parsed.append(
                RightsAnswer(
                    topic=topic,
                    countries=countries,
                    text=_texts(f"{where}: text", entry.get("text"), WITH_EN),
                    hotline_roles=tuple(entry.get("hotline_roles") or ()),
                    source=source,
                    checked=checked,
                )
            )
        if covered != set(COUNTRIES):
            missing = sorted(set(COUNTRIES) - covered)
            raise ContentError(f"rights.yaml: {topic}: no answer for {', '.join(missing)}")
        found[topic] = tuple(parsed)
    return found


@cache
def screening() -> Screening:
    """The screening's texts from content/screening.yaml."""
    data = _load("screening.yaml")
    consent = data["consent"]
    source, checked = _provenance("screening.yaml: consent", consent)
    return Screening(
        consent=_texts("screening.yaml: consent.text", consent.get("text")),
        consent_source=source,
        consent_checked=checked,
        questions=tuple(
            Question(slot=slot, text=_texts(f"screening.yaml: questions.{slot}", text, WITH_EN))
            for slot, text in data["questions"].items()
        ),
        signs={
            k: _texts(f"screening.yaml: signs.{k}", v, WITH_EN) for k, v in data["signs"].items()
        },
        results={k: _texts(f"screening.yaml: results.{k}", v) for k, v in data["results"].items()},
        answers={k: _texts(f"screening.yaml: answers.{k}", v) for k, v in data["answers"].items()},
        say_which={
            k: _texts(f"screening.yaml: say_which.{k}", v) for k, v in data["say_which"].items()
        },
    )


@cache
def country_names() -> dict[str, Texts]:
    """Each country's name in every language, from content/countries.yaml."""
    data = _load("countries.yaml")
    if set(data) != set(COUNTRIES):
        raise ContentError(f"countries.yaml: expected exactly {COUNTRIES}")
    return {code: _texts(f"countries.yaml: {code}", names, WITH_EN) for code, names in data.items()}


@cache
def gateway_texts() -> dict[str, Texts]:
    """What the gateway says itself (non-text messages, cut messages), from content/gateway.yaml."""
    data = _load("gateway.yaml")
    return {key: _texts(f"gateway.yaml: {key}", texts, WITH_EN) for key, texts in data.items()}


CONSOLE_LANGUAGES = ("en", "th")


PHRASE_GROUPS = ("safety", "place", "contact", "documents", "reassurance", "practical")


@dataclass(frozen=True)
class CannedReply:
    """A sentence of the operators' phrasebook: a title for the operator, a text for the person,
    its group, and where any fact it states comes from."""

    id: str
    title: Texts
    text: Texts
    group: str
    source: str = ""
    checked: dt.date | None = None


@cache
def console_texts() -> dict[str, dict[str, Texts]]:
    """The console's words in English and Thai, by section (ui, risks, ...), from console.yaml."""
    data = _load("console.yaml")
    return {
        section: {
            key: _texts(f"console.yaml: {section}.{key}", texts, CONSOLE_LANGUAGES)
            for key, texts in entries.items()
        }
        for section, entries in data.items()
    }


@cache
def canned_replies() -> tuple[CannedReply, ...]:
    """The operators' phrasebook (ready-made replies), in the file's order, from
    content/canned.yaml. An entry that states a fact carries `source` and `checked`."""
    found = []
    for key, entry in _load("canned.yaml").items():
        where = f"canned.yaml: {key}"
        group = entry.get("group")
        if group not in PHRASE_GROUPS:
            raise ContentError(f"{where}: group must be one of {PHRASE_GROUPS}")
        source, checked = ("", None)
        if "source" in entry or "checked" in entry:
            source, checked = _provenance(where, entry)
        found.append(
            CannedReply(
                id=key,
                title=_texts(f"{where}.title", entry.get("title"), CONSOLE_LANGUAGES),
                text=_texts(f"{where}.text", entry.get("text"), WITH_EN),
                group=str(group),
                source=source,
                checked=checked,
            )
        )
    return tuple(found)


@cache
def leaflet_texts() -> dict[str, Texts]:
    """The words of the NGOs' printable leaflet, from content/leaflet.yaml."""
    data = _load("leaflet.yaml")
    return {key: _texts(f"leaflet.yaml: {key}", texts, WITH_EN) for key, texts in data.items()}


@cache
def referral_print_texts() -> dict[str, Texts]:
    """The field names of a printed referral, from content/referral.yaml."""
    data = _load("referral.yaml")
    return {key: _texts(f"referral.yaml: {key}", texts, WITH_EN) for key, texts in data.items()}


@dataclass(frozen=True)
class Button:
    """A button under a turn: what it sends, and its label in every language."""

    id: str
    payload: str
    title: Texts


@dataclass(frozen=True)
class Turn:
    """One of the assistant's own turns (a Rasa response): its words and its buttons."""

    key: str
    text: Texts
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Turns:
    """content/turns.yaml: the language picker, the buttons, and the turns."""

    picker_text: str
    picker_buttons: tuple[tuple[str, str], ...]
    buttons: dict[str, Button]
    turns: dict[str, Turn]


@cache
def turns() -> Turns:
    """The assistant's own turns from content/turns.yaml (domain/responses.yml is made from it)."""
    data = _load("turns.yaml")
    picker = data["language_picker"]
    buttons = {
        key: Button(
            id=key,
            payload=str(entry["payload"]),
            title=_texts(
                f"turns.yaml: buttons.{key}",
                {lang: text for lang, text in entry.items() if lang != "payload"},
                WITH_EN,
            ),
        )
        for key, entry in data["buttons"].items()
    }
    menus: dict[str, list[str]] = data.get("menus") or {}

    def buttons_of(where: str, listed: Any) -> tuple[Button, ...]:
        names = menus[listed] if isinstance(listed, str) and listed in menus else listed or []
        if not isinstance(names, list):
            raise ContentError(f"{where}: buttons must be a menu's name or a list of buttons")
        unknown = [name for name in names if name not in buttons]
        if unknown:
            raise ContentError(f"{where}: no such button: {', '.join(map(str, unknown))}")
        return tuple(buttons[name] for name in names)

    found = {}
    for key, entry in data["turns"].items():
        where = f"turns.yaml: turns.{key}"
        words = {lang: text for lang, text in entry.items() if lang != "buttons"}
        found[key] = Turn(
            key=key,
            text=_texts(where, words, WITH_EN),
            buttons=buttons_of(where, entry.get("buttons")),
        )
    return Turns(
        picker_text=str(picker["text"]),
        picker_buttons=tuple((str(b["title"]), str(b["payload"])) for b in picker["buttons"]),
        buttons=buttons,
        turns=found,
    )


def reload() -> None:
    """Forget what the loaders read, so that the next call reads content/ again."""
    for loader in (
        referral_print_texts,
        hotlines,
        rights,
        screening,
        country_names,
        gateway_texts,
        console_texts,
        canned_replies,
        leaflet_texts,
        turns,
    ):
        loader.cache_clear()
