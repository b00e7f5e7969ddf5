"""The hand-off request a bot message carries to the router: `{"handoff": {...}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from hotline.content import gateway_texts
from hotline.language import LANGUAGES
from hotline.screening import QUESTIONS

Reason = Literal["request_human", "in_danger", "screening"]
PAYLOAD_KEY = "handoff"
# The button under the waiting message: the person goes back to the assistant (bot/router.py).
WITHDRAW = "/withdraw"


def payload(
    reason: Reason,
    risk: str | None,
    language: str | None,
    country: str | None,
    answers: Mapping[str, str | None],
) -> dict[str, Any]:
    """The custom payload of the bot message that ends a hand-off request."""
    return {
        PAYLOAD_KEY: {
            "reason": reason,
            "risk": risk,
            "language": language,
            "country": country,
            "answers": {q: answers[q] for q in QUESTIONS if answers.get(q) is not None},
        }
    }


def back_buttons(language: str | None) -> list[dict[str, str]]:
    """The button that takes a waiting hand-off back, titled in the person's language; while the
    language is not known, one in each (a label in all three would be cut on LINE)."""
    titles = gateway_texts()["back_to_assistant"]
    shown = [language] if language in LANGUAGES else list(LANGUAGES)
    return [{"title": titles[lang], "payload": WITHDRAW} for lang in shown]
