"""Every text a person reads, one entry each: where it is written, what it means in English, its
words in th, vi and km, and where a fact in it comes from.

The content lint (hotline/content_lint.py) and the review sheet (hotline/content_sheet.py) both
work from this list, so a text added to content/ is linted and reviewed without more code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from hotline import content
from hotline.language import LANGUAGES

# How a text reaches the person, which decides the lint's rules for it:
# bubble: a message of the assistant (or an operator's ready-made one), read on a phone;
# label: a button's title; part: words shown inside another text (a line's name, a sign);
# print: the printed leaflet.
Kind = Literal["bubble", "label", "part", "print"]
# gateway.yaml texts that are not messages of their own.
GATEWAY_KINDS: dict[str, Kind] = {
    "back_to_assistant": "label",
    "talk_to_person": "label",
    "listen": "label",
    "referral_agree": "label",
    "referral_later": "label",
    "referral_what_button": "label",
    "referral_fields": "part",
    "referral_offers": "part",
    "referral_risks": "part",
    "referral_none": "part",
    "safe_word": "part",
    "from_that_country": "part",
    "command_lang": "part",
    "command_help": "part",
    "command_forget": "part",
    "command_exit": "part",
}


@dataclass(frozen=True)
class UserText:
    """One text in every language, with its place in content/ (file, then the keys down to the
    mapping that holds the languages)."""

    key: str
    file: str
    path: tuple[str | int, ...]
    kind: Kind
    en: str
    texts: dict[str, str]
    source: str = ""
    checked: dt.date | None = None
    # The operators' phrasebook speaks in the operator's voice, not the assistant's.
    assistant: bool = True

    def with_texts(self, texts: dict[str, str]) -> UserText:
        """The same entry with other words (the review sheet's proposal)."""
        return replace(self, texts={**self.texts, **texts})


def _entry(
    key: str,
    file: str,
    path: tuple[str | int, ...],
    kind: Kind,
    texts: content.Texts,
    source: str = "",
    checked: dt.date | None = None,
    assistant: bool = True,
) -> UserText:
    return UserText(
        key=key,
        file=file,
        path=path,
        kind=kind,
        en=texts.get("en", ""),
        texts={lang: texts[lang] for lang in LANGUAGES},
        source=source,
        checked=checked,
        assistant=assistant,
    )


def every_text() -> list[UserText]:
    """Every user-facing text of content/, in the files' order."""
    found: list[UserText] = []
    turns = content.turns()
    for key, turn in turns.turns.items():
        found.append(_entry(f"turns.{key}", "turns.yaml", ("turns", key), "bubble", turn.text))
    for key, button in turns.buttons.items():
        where = ("buttons", key)
        found.append(_entry(f"buttons.{key}", "turns.yaml", where, "label", button.title))

    screening = content.screening()
    found.append(
        _entry(
            "screening.consent",
            "screening.yaml",
            ("consent", "text"),
            "bubble",
            screening.consent,
            screening.consent_source,
            screening.consent_checked,
        )
    )
    for question in screening.questions:
        where = ("questions", question.slot)
        key = f"screening.{question.slot}"
        found.append(_entry(key, "screening.yaml", where, "bubble", question.text))
    for key, texts in screening.answers.items():
        found.append(_entry(f"answers.{key}", "screening.yaml", ("answers", key), "label", texts))
    for key, texts in screening.say_which.items():
        where = ("say_which", key)
        found.append(_entry(f"say_which.{key}", "screening.yaml", where, "bubble", texts))
    for key, texts in screening.signs.items():
        found.append(_entry(f"signs.{key}", "screening.yaml", ("signs", key), "part", texts))
    for key, texts in screening.results.items():
        kind: Kind = "part" if key == "signs_heading" else "bubble"
        found.append(_entry(f"results.{key}", "screening.yaml", ("results", key), kind, texts))

    for topic, answers in content.rights().items():
        for index, answer in enumerate(answers):
            found.append(
                _entry(
                    f"rights.{topic}.{'+'.join(answer.countries)}",
                    "rights.yaml",
                    (topic, index, "text"),
                    "bubble",
                    answer.text,
                    answer.source,
                    answer.checked,
                )
            )
    for key, line in content.hotlines().items():
        found.append(
            _entry(
                f"hotlines.{key}",
                "hotlines.yaml",
                (key, "name"),
                "part",
                line.name,
                line.source,
                line.checked,
            )
        )
    for key, names in content.country_names().items():
        found.append(_entry(f"countries.{key}", "countries.yaml", (key,), "label", names))
    for key, texts in content.gateway_texts().items():
        kind = GATEWAY_KINDS.get(key, "bubble")
        found.append(_entry(f"gateway.{key}", "gateway.yaml", (key,), kind, texts))
    for key, texts in content.leaflet_texts().items():
        found.append(_entry(f"leaflet.{key}", "leaflet.yaml", (key,), "print", texts))
    for key, texts in content.referral_print_texts().items():
        found.append(_entry(f"referral.{key}", "referral.yaml", (key,), "part", texts))
    for reply in content.canned_replies():
        found.append(
            _entry(
                f"phrases.{reply.id}",
                "canned.yaml",
                (reply.id, "text"),
                "bubble",
                reply.text,
                reply.source,
                reply.checked,
                assistant=False,
            )
        )
    return found
