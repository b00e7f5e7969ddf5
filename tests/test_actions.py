"""The custom actions on fixed trackers (tests/trackers/*.json): the events they return and the
messages they send."""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionEmergency, ActionHandoff
from actions.language import ActionChooseLanguage, ValidatePredefinedSlots
from actions.rights import ActionAnswerRights, ActionCountryChosen
from actions.screening import (
    ActionAskQ2FreeToLeave,
    ActionAskQ3DocumentsKept,
    ActionScreeningConsent,
    ActionScreeningResult,
    ValidateScreeningForm,
)

ROOT = Path(__file__).resolve().parent.parent


@cache
def domain() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    return merged


def run(action: Action, fixture: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Runs an action on a fixed tracker; returns (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, _tracker(fixture), domain()))
    return events, dispatcher.messages


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or "") for m in messages)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def payloads(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"] for m in messages if m.get("custom")]


def test_rights_question_without_country_asks_it_and_keeps_the_topic() -> None:
    events, messages = run(ActionAnswerRights(), "th_passport_country_unknown")
    assert slot_events(events) == {"pending_rights_topic": "passport_taken"}
    assert messages[0]["response"] == "utter_which_country"
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/choose_country{"country":"th"}',
        '/choose_country{"country":"vn"}',
        '/choose_country{"country":"kh"}',
        '/choose_country{"country":"other"}',
    ]
    assert messages[0]["buttons"][0]["title"] == "ประเทศไทย"


def test_rights_answer_in_vietnamese_for_cambodia() -> None:
    events, messages = run(ActionAnswerRights(), "vi_passport_in_cambodia")
    assert events == []
    text = texts(messages)
    assert "hộ chiếu" in text.lower()
    assert "☎ 117" in text
    assert "1300" not in text  # a Thai line has no place in an answer for Cambodia


def test_rights_button_lists_the_khmer_lines_of_thailand() -> None:
    _, messages = run(ActionAnswerRights(), "km_hotlines_button_in_thailand")
    text = texts(messages)
    for number in ("1300", "191", "1669", "1-800-010-181", "1694"):
        assert number in text
    assert "1-800-010-182" not in text  # the Lao/Thai Issara line is not for a Khmer speaker


def test_the_country_answer_releases_the_waiting_question() -> None:
    events, messages = run(ActionCountryChosen(), "km_country_answer_with_pending_topic")
    assert slot_events(events) == {"pending_rights_topic": None}
    assert "1546" in texts(messages)


def test_a_country_said_unprompted_is_confirmed_with_its_lines() -> None:
    _, messages = run(ActionCountryChosen(), "th_say_country_unprompted")
    assert messages[0]["response"] == "utter_country_noted"
    assert messages[0]["country_name"] == "กัมพูชา"
    assert "☎ 117" in texts(messages)


def test_danger_gives_the_country_numbers_first_then_an_urgent_handoff() -> None:
    events, messages = run(ActionEmergency(), "th_in_danger_in_thailand")
    assert slot_events(events) == {"risk": "immediate"}
    assert messages[0]["response"] == "utter_emergency"
    assert "☎ 191" in messages[1]["text"] and "☎ 1300" in messages[1]["text"]
    assert payloads(messages) == [
        {
            "handoff": {
                "reason": "in_danger",
                "risk": "immediate",
                "language": "th",
                "country": "th",
                "answers": {},
            }
        }
    ]
    assert "custom" in messages[-1]  # the payload is the last message


def test_danger_with_no_country_gives_every_countrys_numbers() -> None:
    _, messages = run(ActionEmergency(), "vi_in_danger_country_unknown")
    numbers = messages[1]["text"]
    for number in ("191", "113", "111", "117"):
        assert f"☎ {number}" in numbers
    assert "Campuchia" in numbers


def test_accepted_handoff_carries_risk_and_answers() -> None:
    _, messages = run(ActionHandoff(), "km_request_human_after_high_result")
    assert messages[0]["response"] == "utter_handoff"
    assert payloads(messages) == [
        {
            "handoff": {
                "reason": "screening",
                "risk": "high",
                "language": "km",
                "country": "th",
                "answers": {
                    "q1_danger": "no",
                    "q2_free_to_leave": "no",
                    "q3_documents_kept": "yes",
                    "q4_debt": "unsure",
                },
            }
        }
    ]


def test_high_result_names_the_signs_and_offers_a_person() -> None:
    events, messages = run(ActionScreeningResult(), "vi_screening_high")
    assert slot_events(events) == {"risk": "high"}
    text = texts(messages)
    assert text.count("•") == 2  # documents kept, debt
    assert "☎ 111" in text
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]
    # Counted for the reports; a person only if they say yes.
    assert payloads(messages) == [{"screened": {"risk": "high", "country": "vn"}}]


def test_a_high_result_for_a_child_in_cambodia_gives_the_child_line() -> None:
    events, messages = run(ActionScreeningResult(), "km_screening_high_under_18_in_cambodia")
    assert slot_events(events) == {"risk": "high"}
    assert "☎ 1280" in texts(messages) and "☎ 117" in texts(messages)
    _, adult = run(ActionScreeningResult(), "vi_screening_high")
    assert "☎ 1280" not in texts(adult)


def test_a_result_after_skipping_everything_does_not_say_there_are_no_signs() -> None:
    tracker = _tracker("vi_screening_high")
    for question in list(tracker.slots)[7:]:
        tracker.slots[question] = "skipped"
    tracker.slots.update({"q2_free_to_leave": "unsure", "q3_documents_kept": "skipped"})
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionScreeningResult().run(dispatcher, tracker, domain()))
    said = texts(dispatcher.messages)
    assert "bỏ qua các câu hỏi" in said and "không cho thấy dấu hiệu" not in said
    _, answered = run(ActionScreeningResult(), "vi_screening_high")
    assert "bỏ qua các câu hỏi" not in texts(answered)


def test_immediate_result_hands_off_without_asking() -> None:
    events, messages = run(ActionScreeningResult(), "th_screening_immediate")
    assert slot_events(events) == {"risk": "immediate"}
    assert "☎ 191" in texts(messages)
    screened, payload = payloads(messages)
    assert screened == {"screened": {"risk": "immediate", "country": "th"}}
    assert "custom" in messages[-1]  # the hand-off is the last message
    assert payload["handoff"]["risk"] == "immediate"
    assert payload["handoff"]["reason"] == "screening"
    assert payload["handoff"]["answers"]["q7_threatened"] == "yes"


def test_medium_result_gives_labour_lines() -> None:
    events, messages = run(ActionScreeningResult(), "km_screening_medium_in_thailand")
    assert slot_events(events) == {"risk": "medium"}
    assert "☎ 1546" in texts(messages)


def test_consent_explains_and_clears_old_answers() -> None:
    events, messages = run(ActionScreeningConsent(), "th_answer_while_q3_asked")
    assert "9 " in messages[0]["text"]
    assert all(value is None for value in slot_events(events).values())
    assert "q1_danger" in slot_events(events)


def test_a_yes_fills_the_question_asked() -> None:
    events = asyncio.run(
        ValidateScreeningForm().get_extraction_events(
            CollectingDispatcher(), _tracker("th_answer_while_q3_asked"), domain()
        )
    )
    assert slot_events(events) == {"q3_documents_kept": "yes"}


def q2_answered(intent: str, topic: str | None = None, text: str | None = None) -> dict[str, Any]:
    """What the form takes from a reply to question 2 ("could you leave?"), typed or, without
    a text, its button."""
    tracker = _tracker("th_answer_while_q3_asked")
    tracker.slots["requested_slot"] = "q2_free_to_leave"
    tracker.slots["q2_free_to_leave"] = None
    tracker.latest_message["text"] = text or f"/{intent}"
    tracker.latest_message["intent"] = {"name": intent, "confidence": 0.97}
    tracker.latest_message["intent_ranking"] = [{"name": intent, "confidence": 0.97}]
    if topic:
        picked = {"response": {"intent_response_key": f"rights/{topic}"}}
        tracker.latest_message["response_selector"] = {"rights": picked}
    events = asyncio.run(
        ValidateScreeningForm().get_extraction_events(CollectingDispatcher(), tracker, domain())
    )
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize(
    ("intent", "topic", "taken"),
    [
        # Its buttons name the answer.
        ("can_leave", None, "yes"),
        ("cannot_leave", None, "no"),
        ("unsure", None, "unsure"),
        ("skip", None, "skipped"),
        # Typed: "they don't let me quit or go out" says which.
        ("rights", "cannot_leave", "no"),
        # A bare yes or no could mean either: asked again (nothing kept, the form goes on).
        ("affirm", None, None),
        ("deny", None, None),
    ],
)
def test_question_2_takes_only_answers_that_say_which(
    intent: str, topic: str | None, taken: str | None
) -> None:
    assert q2_answered(intent, topic) == {"q2_free_to_leave": taken}


@pytest.mark.parametrize(
    "text",
    [
        "/can_leave",
        "ออกได้ ไม่มีใครห้าม",
        "ฉันลาออกได้ถ้าอยาก",
        "tôi có thể nghỉ bất cứ lúc nào",
        "em đi được, không ai cấm",
        "ខ្ញុំអាចចេញបាន",
        "ខ្ញុំអាចឈប់ធ្វើការបាន",
    ],
)
def test_a_typed_i_can_leave_counts_as_yes(text: str) -> None:
    assert q2_answered("can_leave", text=text) == {"q2_free_to_leave": "yes"}


@pytest.mark.parametrize(
    "text",
    [
        # Read as "can leave" by a classifier that missed the "not", the "but" or the question.
        "ฉันออกไปไม่ได้",
        "ออก ไม่ ได้ ครับ",
        "ใช่ แต่เขาไม่ให้ออกไปไหน",
        "ลาออกได้มั้ยคะ",
        "Tôi không đi được",
        "toi ko di dau duoc",
        "có, nhưng họ không cho tôi ra ngoài",
        "e nghi dc ko",
        "ខ្ញុំមិនអាចចេញបាន",
        "ខ្ញុំ\u200bចេញ\u200bមិន\u200bបាន",
        "ចាស តែគេអត់ឲ្យចេញ",
        "ខ្ញុំអាចឈប់បានទេ",
    ],
)
def test_a_typed_i_can_leave_that_says_cannot_or_asks_is_asked_again(text: str) -> None:
    assert q2_answered("can_leave", text=text) == {"q2_free_to_leave": None}
    assert q2_answered("cannot_leave", text=text) == {"q2_free_to_leave": "no"}


def test_a_bare_yes_to_question_2_is_told_why_it_is_asked_again() -> None:
    tracker = _tracker("th_answer_while_q3_asked")
    tracker.slots["requested_slot"] = "q2_free_to_leave"
    dispatcher = CollectingDispatcher()
    asyncio.run(ValidateScreeningForm().get_extraction_events(dispatcher, tracker, domain()))
    [said] = dispatcher.messages
    assert "ออกไปได้ หรือออกไปไม่ได้" in said["text"]


def test_danger_or_another_question_at_question_2_is_left_to_the_rules() -> None:
    assert q2_answered("in_danger") == {}
    assert q2_answered("rights", "passport_taken") == {}


@pytest.mark.parametrize("language", ["th", "vi", "km"])
def test_question_2_has_its_own_answer_buttons(language: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = _tracker("th_answer_while_q3_asked")
    tracker.slots["language"] = language
    asyncio.run(ActionAskQ2FreeToLeave().run(dispatcher, tracker, domain()))
    [asked] = dispatcher.messages
    assert asked["text"].startswith("2/9")
    assert [b["payload"] for b in asked["buttons"]] == [
        "/can_leave",
        "/cannot_leave",
        "/unsure",
        "/skip",
    ]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskQ3DocumentsKept().run(dispatcher, tracker, domain()))
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]][:2] == ["/affirm", "/deny"]


def test_danger_now_ends_the_questions() -> None:
    tracker = _tracker("vi_danger_yes_at_q1")
    tracker.slots["q1_danger"] = "yes"
    required = asyncio.run(
        ValidateScreeningForm().required_slots(
            domain()["forms"]["screening_form"]["required_slots"],
            CollectingDispatcher(),
            tracker,
            domain(),
        )
    )
    assert required == ["country", "q1_danger"]


def test_a_named_language_wins_over_the_script() -> None:
    extracted = ValidatePredefinedSlots().extract_language(
        CollectingDispatcher(), _tracker("km_named_khmer_in_thai_script"), domain()
    )
    assert extracted == {"language": "km"}
    _, messages = run(ActionChooseLanguage(), "km_named_khmer_in_thai_script")
    assert [m["response"] for m in messages] == ["utter_language_set", "utter_menu"]


def test_an_unknown_language_keeps_the_conversations() -> None:
    extracted = ValidatePredefinedSlots().extract_language(
        CollectingDispatcher(), _tracker("vi_unknown_language_message"), domain()
    )
    assert extracted == {}


def test_a_country_is_read_only_when_said_or_asked() -> None:
    extract = ValidatePredefinedSlots().extract_country
    told = _tracker("th_say_country_unprompted")
    told.slots["country"] = None
    assert extract(CollectingDispatcher(), told, domain()) == {"country": "kh"}
    unasked = _tracker("th_passport_country_unknown")
    unasked.latest_message["named_country"] = "kh"
    assert extract(CollectingDispatcher(), unasked, domain()) == {}


def _tracker(fixture: str) -> Tracker:
    state = json.loads(
        (ROOT / "tests" / "trackers" / f"{fixture}.json").read_text(encoding="utf-8")
    )
    return Tracker.from_dict(state)


def test_only_known_languages_and_answers_are_kept() -> None:
    tracker = _tracker("th_answer_while_q3_asked")
    tracker.events = [
        {"event": "user", "text": "ใช่ครับ"},
        {"event": "slot", "name": "language", "value": "xx"},
        {"event": "slot", "name": "q3_documents_kept", "value": "maybe"},
        {"event": "slot", "name": "country", "value": "kh"},
    ]
    dispatcher = CollectingDispatcher()
    general = asyncio.run(ValidatePredefinedSlots().get_validation_events(dispatcher, tracker, {}))
    form = asyncio.run(ValidateScreeningForm().get_validation_events(dispatcher, tracker, {}))
    assert slot_events(general) == {"language": None, "country": "kh"}
    assert slot_events(form) == {"q3_documents_kept": None, "country": "kh"}
