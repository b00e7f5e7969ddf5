"""The content lint: what a reader on a phone would trip over, found before it ships.

Every text of hotline/user_texts.py is checked: present in th, vi and km; a button label within
LINE's 20 characters (counted in code points, the stricter count: a Thai or Khmer vowel sign is
one) and a payload within Telegram's 64 bytes of callback data; a message bubble within 300
characters (a blank line starts a new bubble; the phone lines after a text are a bubble of their
own); every number shown is in hotlines.yaml; legal references in the reader's language; the
assistant's Thai turns end with its polite particle. `python -m hotline.content_lint` prints each
problem with its file and key, and checks that domain/responses.yml is made from the content.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass

from hotline import responses
from hotline.content import bubbles, hotlines, turns
from hotline.language import LANGUAGES, detect
from hotline.user_texts import UserText, every_text

LABEL_LIMIT = 20  # LINE quick reply label; Telegram shows about as much on a phone.
CALLBACK_DATA_LIMIT = 64  # Telegram callback_data, in bytes.
BUBBLE_LIMIT = 300
# Digit runs that may be phone numbers: 3 digits or more, with spaces or dashes between.
NUMBER = re.compile(r"\+?\d[\d\- ]*\d")
ENGLISH_LAW = re.compile(r"\b(s\.\s?\d|Art\.\s?\d|[Ss]ection \d|Article \d)")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# The assistant's Thai voice (ฉัน, female): ค่ะ after a statement, คะ after a question.
THAI_PARTICLES = ("ค่ะ", "คะ")
# What may follow the particle at the end: punctuation, quotes, emoji, spaces, and a reference in
# brackets ("... ค่ะ (มาตรา 41)").
TRAILING = re.compile(r"(\s*\([^()]*\))?[\s\"'’”!?.:…🙂]*$")
# The same run of words said twice in a row ("ได้อีกได้อีก", "của bạn của bạn").
DOUBLED = re.compile(r"(\S.{5,}?)\s?\1")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one text in one language."""

    key: str
    file: str
    language: str
    message: str

    def __str__(self) -> str:
        where = f"content/{self.file} {self.key}"
        if self.language:
            where += f" [{self.language}]"
        return f"{where}: {self.message}"


def digits(text: str) -> str:
    """Only the digits, as Latin digits (Thai and Khmer numerals converted)."""
    return "".join(str(unicodedata.digit(c)) for c in text if c.isdigit())


def numbers_in(text: str) -> set[str]:
    """The digit sequences of 3 or more digits that a person could read as a phone number."""
    found = set()
    for match in NUMBER.finditer(text):
        number = digits(match.group())
        if len(number) >= 3:
            found.add(number)
    return found


def is_year_or_law(number: str) -> bool:
    """Years (2008, B.E. 2551) are not phone numbers."""
    return len(number) == 4 and number.startswith(("19", "20", "25"))


def known_numbers() -> set[str]:
    """Every hotline number of hotlines.yaml, as digits."""
    return {digits(line.number) for line in hotlines().values()}


def thai_voice_problem(bubble: str) -> str | None:
    """Why a Thai bubble is not in the assistant's voice, or None."""
    shown = TRAILING.sub("", PLACEHOLDER.sub("", bubble).rstrip())
    if bubble.rstrip().endswith((":", "：")):  # introduces a list: the particle comes before
        if not any(particle in bubble for particle in THAI_PARTICLES):
            return "a Thai turn that introduces a list still needs ค่ะ or คะ before it"
        return None
    if not shown.endswith(THAI_PARTICLES):
        return "a Thai turn ends with the assistant's ค่ะ or คะ"
    return None


def problems_of(entry: UserText, known: set[str] | None = None) -> list[Problem]:
    """Everything the lint finds in one text."""
    known = known_numbers() if known is None else known
    found: list[Problem] = []

    def problem(language: str, message: str) -> None:
        found.append(Problem(entry.key, entry.file, language, message))

    if not entry.en.strip():
        problem("en", "no English meaning (for operators and reviewers)")
    for language in LANGUAGES:
        text = entry.texts.get(language, "")
        if not text.strip():
            problem(language, "missing")
            continue
        if unicodedata.normalize("NFC", text) != text:
            problem(language, "not in NFC: a letter is written as two code points")
        shown = PLACEHOLDER.sub("", text)
        if entry.kind == "label" and len(text) > LABEL_LIMIT:
            problem(language, f"label of {len(text)} characters: LINE shows {LABEL_LIMIT}")
        if entry.kind == "bubble":
            for bubble in bubbles(text):
                if len(bubble) > BUBBLE_LIMIT:
                    problem(
                        language,
                        f"a bubble of {len(bubble)} characters (at most {BUBBLE_LIMIT}): "
                        "shorten it, or split it with a blank line",
                    )
                if language == "th" and entry.assistant:
                    voice = thai_voice_problem(bubble)
                    if voice:
                        problem(language, voice)
        if entry.kind in ("bubble", "print") and detect(shown) != language:
            problem(language, f"reads as {detect(shown) or 'no known language'}")
        unknown = sorted(n for n in numbers_in(shown) if n not in known and not is_year_or_law(n))
        if unknown:
            problem(language, f"states {', '.join(unknown)}, which is not in hotlines.yaml")
        if ENGLISH_LAW.search(text):
            problem(language, "a legal reference in English: write มาตรา, Điều or មាត្រា")
        doubled = DOUBLED.search(shown)
        if doubled:
            problem(language, f"says {doubled.group(1)!r} twice in a row")
    return found


def payload_problems() -> list[Problem]:
    """Button payloads that Telegram could not carry as callback data."""
    content = turns()
    payloads = [(f"buttons.{b.id}", b.payload) for b in content.buttons.values()]
    payloads += [("language_picker", payload) for _, payload in content.picker_buttons]
    return [
        Problem(key, "turns.yaml", "", f"payload of {len(p.encode())} bytes: Telegram takes 64")
        for key, p in payloads
        if len(p.encode()) > CALLBACK_DATA_LIMIT
    ]


def problems() -> list[Problem]:
    """Everything the lint finds in content/."""
    known = known_numbers()
    found = [p for entry in every_text() for p in problems_of(entry, known)]
    return found + payload_problems()


def main() -> int:
    """Print every problem; fail when there is one or domain/responses.yml is stale."""
    found = problems()
    for problem in found:
        print(problem)
    stale = not responses.current()
    if stale:
        print("domain/responses.yml is not made from content/turns.yaml: run `make responses`")
    if found or stale:
        print(f"content lint: {len(found)} problem(s)")
        return 1
    print(f"content lint: {len(every_text())} texts in {', '.join(LANGUAGES)}, no problem")
    return 0


if __name__ == "__main__":
    sys.exit(main())
