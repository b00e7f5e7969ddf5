"""The light screening: consent, one question at a time with buttons, and the result."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import send_emergency
from actions.language import validate_known
from actions.rights import asked_topic
from actions.say import say
from hotline.content import COUNTRIES, screening
from hotline.hotlines import numbers
from hotline.language import fold
from hotline.screening import (
    ANSWERS,
    QUESTIONS,
    answer_buttons,
    assess,
    choices_of,
    screened_payload,
)

REQUESTED_SLOT = "requested_slot"
# What a short reply means as an answer to a yes/no question.
ANSWER_BY_INTENT = {"affirm": "yes", "deny": "no", "unsure": "unsure", "skip": "skipped"}
# Question 2 ("could you leave?") takes only answers that say which (CONTRACT.md): a bare yes or no
# is asked again, so "yes, they don't let me out" is never read as "can leave".
NAMED_ANSWERS = {
    "q2_free_to_leave": {
        "can_leave": "yes",
        "cannot_leave": "no",
        # Typed: "they don't let me quit / go out" says which.
        "rights/cannot_leave": "no",
        "unsure": "unsure",
        "skip": "skipped",
    }
}
# "Can't", "not allowed", or a question. A typed "I can leave" with one of them in it does not
# say which ("ออกได้แต่เขาไม่ให้ออก", "ខ្ញុំអាចឈប់បានទេ" can I quit?): it is asked again, as a bare yes
# is, so that a misread negation or question never counts as "can leave". Thai and Khmer are
# matched with spaces removed (people add some); Vietnamese without diacritics: a "not" up to two
# words before "can", "allowed" or "let" ("ko di dau dc", "khong the"), or "được không" at the end.
CANNOT_OR_ASKS = re.compile(
    r"[?？]"
    r"|ไม่ได้|ไม่ให้|ไม่ยอม|ไม่ปล่อย|บ่ได้|บ่ให้|ได้(?:ไหม|มั้ย|มั๊ย|ไม๊|ป่าว|ป่ะ|ปะ|มะ|เหรอ|หรอ|หรือ|บ่)"
    r"|មិនអាច|អត់អាច|មិនបាន|អត់បាន|មិនឲ្យ|អត់ឲ្យ|មិនអោយ|អត់អោយ|មិនព្រម|អត់ព្រម"
    r"|បាន(?:ដែរ)?ឬ?(?:ទេ|អត់)"
)
CANNOT_OR_ASKS_VIETNAMESE = re.compile(
    r"\b(?:khong|ko|k|kg|hong|hok|chang|chua)\b(?:\W+\w+){0,2}?\W+(?:duoc|dc|the|cho)\b"
    r"|\b(?:duoc|dc)\W+(?:khong|ko|k|hong|hok|chua)\W*$"
)
# The buttons of each answer: the intent they send.
RESULT_LINE_ROLES = {"high": ("trafficking", "abroad"), "medium": ("labour", "abroad")}


def answers_of(tracker: Tracker) -> dict[str, str | None]:
    """The screening answers given so far, by question slot."""
    return {q: tracker.get_slot(q) for q in QUESTIONS}


def says_cannot_or_asks(text: str) -> bool:
    """Whether a message says "can't" or "not allowed", or asks, in Thai, Vietnamese or Khmer."""
    folded = fold(text)
    compact = re.sub(r"[\s\u200b]+", "", folded)
    return bool(CANNOT_OR_ASKS.search(compact) or CANNOT_OR_ASKS_VIETNAMESE.search(folded))


class ActionScreeningConsent(Action):
    """Explains the screening and asks for consent before any question."""

    def name(self) -> str:
        """Action name."""
        return "action_screening_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say what it is and ask to start."""
        language = tracker.get_slot("language")
        if language is None:
            dispatcher.utter_message(response="utter_ask_language")
            return []
        say(dispatcher, screening().consent[language], answer_buttons(language, ("yes", "no")))
        # A new screening starts with no answers from an earlier one.
        return [SlotSet(q, None) for q in QUESTIONS] + [SlotSet("risk", None)]


class AskQuestion(Action, ABC):
    """Asks one screening question with answer buttons; subclasses name the question slot."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The question's slot."""

    def name(self) -> str:
        """action_ask_<slot>, as the form looks it up."""
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask."""
        language = tracker.get_slot("language") or "th"
        question = next(q for q in screening().questions if q.slot == self.slot)
        number = QUESTIONS.index(self.slot) + 1
        dispatcher.utter_message(
            text=f"{number}/{len(QUESTIONS)}. {question.text[language]}",
            buttons=answer_buttons(language, choices_of(self.slot)),
        )
        return []


class ActionAskQ1Danger(AskQuestion):
    """Question 1."""

    slot = "q1_danger"


class ActionAskQ2FreeToLeave(AskQuestion):
    """Question 2."""

    slot = "q2_free_to_leave"


class ActionAskQ3DocumentsKept(AskQuestion):
    """Question 3."""

    slot = "q3_documents_kept"


class ActionAskQ4Debt(AskQuestion):
    """Question 4."""

    slot = "q4_debt"


class ActionAskQ5Underpaid(AskQuestion):
    """Question 5."""

    slot = "q5_underpaid"


class ActionAskQ6Deceived(AskQuestion):
    """Question 6."""

    slot = "q6_deceived"


class ActionAskQ7Threatened(AskQuestion):
    """Question 7."""

    slot = "q7_threatened"


class ActionAskQ8Isolated(AskQuestion):
    """Question 8."""

    slot = "q8_isolated"


class ActionAskQ9Under18(AskQuestion):
    """Question 9."""

    slot = "q9_under_18"


class ValidateScreeningForm(FormValidationAction):
    """Reads yes/no/not sure/skip replies into the question asked; danger now ends the questions."""

    def name(self) -> str:
        """Action name."""
        return "validate_screening_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """All questions, unless the person said they are in danger right now."""
        if tracker.get_slot("q1_danger") == "yes":
            return ["country", "q1_danger"]
        return domain_slots

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """The reply to the requested question, as yes/no/unsure/skipped. A question with named
        answers takes only those: to anything else it is asked again."""
        requested = tracker.get_slot(REQUESTED_SLOT)
        intent = tracker.get_intent_of_latest_message() or ""
        if requested in NAMED_ANSWERS:
            said = f"rights/{asked_topic(tracker)}" if intent == "rights" else intent
            answer = NAMED_ANSWERS[requested].get(said)
            if answer == "yes" and says_cannot_or_asks(tracker.latest_message.get("text") or ""):
                answer = None
            if answer:
                return [SlotSet(requested, answer)]
            if intent in ANSWER_BY_INTENT or said in NAMED_ANSWERS[requested]:
                # A bare yes or no, or "I can leave" with a "can't" or a question in it: setting
                # nothing keeps the form going, and it asks again with the buttons that name the
                # answers, after saying why.
                language = tracker.get_slot("language") or "th"
                say(dispatcher, screening().say_which[requested][language])
                return [SlotSet(requested, None)]
            return []
        answer = ANSWER_BY_INTENT.get(intent)
        if requested in QUESTIONS and answer:
            return [SlotSet(requested, answer)]
        return []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Only yes/no/unsure/skipped answers and known countries."""
        allowed = dict.fromkeys(QUESTIONS, ANSWERS)
        return validate_known(tracker, {**allowed, "country": COUNTRIES})


class ActionScreeningResult(Action):
    """Scores the answers (hotline.screening.assess) and says what they show, by risk level."""

    def name(self) -> str:
        """Action name."""
        return "action_screening_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Tell the result; for immediate risk, emergency numbers and an urgent hand-off."""
        language = tracker.get_slot("language") or "th"
        country = tracker.get_slot("country")
        answers = answers_of(tracker)
        result = assess(answers)
        texts = screening()
        dispatcher.utter_message(json_message=screened_payload(result.risk, country))
        if result.risk == "immediate":
            say(dispatcher, texts.results["immediate"][language])
            send_emergency(dispatcher, tracker, reason="screening")
            return [SlotSet("risk", result.risk)]

        key: str = result.risk
        if key == "low" and not any(answers.get(q) in ("yes", "no") for q in QUESTIONS[1:]):
            # Nothing answered after "in danger now?": no sign could be seen, none was ruled out.
            key = "low_unanswered"
        message = texts.results[key][language]
        if result.signs:
            signs = "\n".join(f"• {texts.signs[s][language]}" for s in result.signs)
            message += f"\n\n{texts.results['signs_heading'][language]}\n{signs}"
        if result.risk in RESULT_LINE_ROLES and country:
            under_18 = answers.get("q9_under_18") == "yes"
            roles = RESULT_LINE_ROLES[result.risk]
            lines = numbers(country, language, roles, under_18) or numbers(
                country, language, ("trafficking",), under_18
            )
            if lines:
                message += "\n\n" + lines
        buttons = (
            answer_buttons(language, ("yes", "no")) if result.risk in ("high", "medium") else []
        )
        say(dispatcher, message, buttons)
        return [SlotSet("risk", result.risk)]
