"""What the console shows of a transcript and what it sends a person."""

from __future__ import annotations

from typing import Any

from handoff.views import Texts, reply_text, with_pressed_buttons
from hotline.content import canned_replies, gateway_texts


def test_a_pressed_button_reads_as_its_title() -> None:
    transcript: list[dict[str, Any]] = [
        {
            "from": "bot",
            "replies": [{"text": "?", "buttons": [{"title": "បាទ/ចាស", "payload": "/affirm"}]}],
        },
        {"from": "person", "text": "/affirm"},
        {"from": "bot", "replies": [{"text": "?"}]},
        {"from": "person", "text": "/affirm"},
    ]
    shown = with_pressed_buttons(transcript)
    assert shown[1]["pressed"] == "បាទ/ចាស"
    assert "pressed" not in shown[3], "only a button of the bot's latest message"


def test_replies_go_in_the_persons_language() -> None:
    hello = next(r for r in canned_replies() if r.id == "hello")
    assert reply_text("", "hello", "km") == hello.text["km"]
    assert reply_text("  typed  ", "hello", "km") == "typed", "typing wins over a chosen reply"
    assert reply_text("", "no-such-reply", "km") == ""
    unknown = reply_text("", "", "", closing=True)
    assert all(gateway_texts()["handoff_closed"][lang] in unknown for lang in ("th", "vi", "km"))


def test_what_was_understood_reads_in_the_operators_language() -> None:
    english, thai = Texts("en"), Texts("th")
    answer = {"intent": "deny", "topic": "", "danger": False, "language": "km"}
    assert english.gloss(answer) == "Answers: no"
    assert thai.gloss(answer) == "ตอบว่า: ไม่ใช่"
    asks = {"intent": "rights", "topic": "passport_taken", "danger": False, "language": "vi"}
    assert english.gloss(asks) == "Asks: passport or ID kept by employer or broker"
    danger = {"intent": "rights", "topic": "go_home", "danger": True, "language": "th"}
    assert english.gloss(danger) == "Says they are in danger now", "danger wins over a topic"
    unread = {"intent": "", "topic": "", "danger": False, "language": "vi"}
    assert english.gloss(unread) == "Not read: the assistant was unavailable"
    assert english.gloss(None) == ""
