"""The hand-off request a bot message carries to the router: `{"handoff": {...}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from hotline.screening import QUESTIONS

Reason = Literal["request_human", "in_danger", "screening"]
PAYLOAD_KEY = "handoff"


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
