"""The light screening (CONTRACT.md, "Light screening"): its risk rules, as one pure function, and
the answer buttons of its questions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hotline.content import screening

Risk = Literal["immediate", "high", "medium", "low"]
RISKS: tuple[Risk, ...] = ("immediate", "high", "medium", "low")

# The questions in the order they are asked; question 0 (the country) sits in the `country` slot.
QUESTIONS = (
    "q1_danger",
    "q2_free_to_leave",
    "q3_documents_kept",
    "q4_debt",
    "q5_underpaid",
    "q6_deceived",
    "q7_threatened",
    "q8_isolated",
    "q9_under_18",
)
ANSWERS = ("yes", "no", "unsure", "skipped")
# The answer buttons of each question, and what each sends to the assistant.
CHOICES = {"q2_free_to_leave": ("can_leave", "cannot_leave", "unsure", "skipped")}
PAYLOADS = {
    "yes": "/affirm",
    "no": "/deny",
    "unsure": "/unsure",
    "skipped": "/skip",
    "can_leave": "/can_leave",
    "cannot_leave": "/cannot_leave",
}

# A sign is present when the question has this answer.
COERCION_SIGNS = {
    "q2_free_to_leave": "no",
    "q3_documents_kept": "yes",
    "q4_debt": "yes",
    "q7_threatened": "yes",
    "q8_isolated": "yes",
}
EXPLOITATION_SIGNS = {"q5_underpaid": "yes", "q6_deceived": "yes"}
SIGNS = {**COERCION_SIGNS, **EXPLOITATION_SIGNS}


def choices_of(slot: str) -> tuple[str, ...]:
    """The answer buttons of a question: its named answers, or yes / no / not sure / skip."""
    return CHOICES.get(slot, ("yes", "no", "unsure", "skipped"))


def answer_buttons(language: str, choices: tuple[str, ...]) -> list[dict[str, str]]:
    """Buttons for the answers (yes, no, not sure, skip, ...) in the person's language."""
    labels = screening().answers
    return [{"title": labels[c][language], "payload": PAYLOADS[c]} for c in choices]


@dataclass(frozen=True)
class Assessment:
    """A screening result: the risk, the signs found, and what the person was unsure of."""

    risk: Risk
    signs: tuple[str, ...]
    unsure: tuple[str, ...]


def assess(answers: Mapping[str, str | None], in_danger_message: bool = False) -> Assessment:
    """Risk from the answers (question slot -> yes/no/unsure/skipped, missing = not asked)."""
    signs = tuple(q for q in QUESTIONS if q in SIGNS and answers.get(q) == SIGNS[q])
    unsure = tuple(q for q in QUESTIONS if answers.get(q) == "unsure")
    coercion = [q for q in signs if q in COERCION_SIGNS]
    threatened = answers.get("q7_threatened") == "yes"
    trapped = answers.get("q2_free_to_leave") == "no" or answers.get("q8_isolated") == "yes"

    risk: Risk
    if in_danger_message or answers.get("q1_danger") == "yes" or (threatened and trapped):
        risk = "immediate"
    elif (coercion and len(signs) >= 2) or (answers.get("q9_under_18") == "yes" and signs):
        risk = "high"
    elif signs:
        risk = "medium"
    else:
        risk = "low"
    return Assessment(risk=risk, signs=signs, unsure=unsure)


SCREENED_KEY = "screened"


def screened_payload(risk: Risk, country: str | None) -> dict[str, Any]:
    """The custom payload of the bot message that tells the router a screening ended (it counts
    it for the reports; nothing of it reaches the person)."""
    return {SCREENED_KEY: {"risk": risk, "country": country}}
