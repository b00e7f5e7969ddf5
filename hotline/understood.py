"""What the assistant understood of one message: intent, rights topic, danger and language, kept
with the message in the transcript so that an operator who does not read the person's language
still reads what they mean (CONTRACT.md, "Hand-off")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypedDict

from hotline.language import KHMER_RANGE, THAI_RANGE, detect, find_listed

DANGER = "in_danger"
# A message longer than this is also read piece by piece, so that danger told inside a long story
# is not drowned by the rest of it.
LONG_MESSAGE = 160
PIECE_LENGTH = 120
SHORTEST = 20
MAX_PIECES = 40
_CLAUSES = re.compile(
    rf"(?<=[.!?;,។៕])\s*|\n+|(?<=[{THAI_RANGE}{KHMER_RANGE}])\s+(?=[{THAI_RANGE}{KHMER_RANGE}])"
)


class Understood(TypedDict):
    """The summary kept with a person's message."""

    intent: str
    topic: str
    danger: bool
    language: str


def summary(parse: Mapping[str, Any]) -> Understood:
    """The summary of Rasa's parse of a message."""
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    full = str(intent.get("full_retrieval_intent_name") or "")
    return {
        "intent": name,
        "topic": full.split("/", 1)[1] if "/" in full else "",
        "danger": name == DANGER,
        "language": str(parse.get("language") or ""),
    }


def from_words(text: str) -> Understood:
    """What can be understood without the assistant's model (when it cannot be reached): danger
    by the high-risk words of hotline/lexicon/danger.yaml, the language by its script."""
    return {
        "intent": "",
        "topic": "",
        "danger": find_listed(text, "danger_words") is not None,
        "language": detect(text) or "",
    }


def pieces(text: str) -> list[str]:
    """A long message cut into its sentences and clauses (none for a short message): at sentence
    ends, line breaks and commas, and at spaces in Thai and Khmer, which mark clauses with them.
    A fragment shorter than SHORTEST joins the next one; none is longer than PIECE_LENGTH."""
    if len(text) <= LONG_MESSAGE:
        return []
    found: list[str] = []
    current = ""
    for clause in _CLAUSES.split(text):
        for word in clause.split():
            if current and len(current) + 1 + len(word) > PIECE_LENGTH:
                found.append(current)
                current = ""
            current = f"{current} {word}" if current else word
        if len(current) >= SHORTEST:
            found.append(current)
            current = ""
    if current:
        found.append(current)
    return found[:MAX_PIECES]
