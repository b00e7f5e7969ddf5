"""domain/responses.yml, made from content/turns.yaml so that every word has one place.

`python -m hotline.responses` (make responses) writes it; the content lint fails while the file
is not what the content makes, so an edit made in the domain file instead is caught.
"""

from __future__ import annotations

import json
import sys

from hotline.content import CONTENT_DIR, Button, turns
from hotline.language import LANGUAGES

RESPONSES = CONTENT_DIR.parent / "domain" / "responses.yml"
HEADER = """\
version: "3.1"

# Made from content/turns.yaml by `make responses` (hotline/responses.py): edit the words there.
# th, vi, km by the `language` slot; the last variation of each response asks for the language
# when it is not known yet.
responses:
"""


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is one)."""
    return json.dumps(text, ensure_ascii=False)


def _payload(payload: str) -> str:
    """Single-quoted, with braces doubled: Rasa fills `{slot}` in a response's payloads."""
    escaped = payload.replace("{", "{{").replace("}", "}}").replace("'", "''")
    return f"'{escaped}'"


def _button_lines(buttons: list[tuple[str, str]], indent: str) -> list[str]:
    lines = [f"{indent}buttons:"]
    lines += [f"{indent}- {{title: {_quoted(t)}, payload: {_payload(p)}}}" for t, p in buttons]
    return lines


def _titled(buttons: tuple[Button, ...], language: str) -> list[tuple[str, str]]:
    return [(button.title[language], button.payload) for button in buttons]


def render() -> str:
    """The text of domain/responses.yml for the current content."""
    content = turns()
    lines = [HEADER.rstrip("\n")]
    picker = [
        f"    text: {_quoted(content.picker_text)}",
        *_button_lines(list(content.picker_buttons), "    "),
    ]
    anchored = False
    for key, turn in content.turns.items():
        lines.append(f"  {key}:")
        for language in LANGUAGES:
            lines.append(f"  - condition: [{{type: slot, name: language, value: {language}}}]")
            lines.append(f"    text: {_quoted(turn.text[language])}")
            if turn.buttons:
                lines += _button_lines(_titled(turn.buttons, language), "    ")
        if anchored:
            lines.append("  - *ask_language")
        else:
            lines.append("  - &ask_language")
            lines += picker
            anchored = True
    lines += ["  utter_ask_language:", "  - *ask_language"]
    return "\n".join(lines) + "\n"


def current() -> bool:
    """Whether domain/responses.yml is what the content makes."""
    return RESPONSES.read_text(encoding="utf-8") == render()


def main() -> int:
    """Write domain/responses.yml."""
    RESPONSES.write_text(render(), encoding="utf-8")
    print(f"wrote {RESPONSES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
