"""Hand-off to a person: for danger (emergency numbers first) or on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from hotline import handoff
from hotline.hotlines import emergency, while_waiting
from hotline.screening import QUESTIONS


def _request(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: handoff.Reason, risk: str | None
) -> None:
    """The bot message that ends every hand-off: the custom payload the router acts on."""
    dispatcher.utter_message(
        json_message=handoff.payload(
            reason=reason,
            risk=risk,
            language=tracker.get_slot("language"),
            country=tracker.get_slot("country"),
            answers={q: tracker.get_slot(q) for q in QUESTIONS},
        )
    )


def send_emergency(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: handoff.Reason
) -> None:
    """Emergency numbers for the person's country at once, then an urgent hand-off."""
    language = tracker.get_slot("language")
    dispatcher.utter_message(response="utter_emergency")
    dispatcher.utter_message(text=emergency(tracker.get_slot("country"), language))
    dispatcher.utter_message(response="utter_handoff_urgent")
    _request(dispatcher, tracker, reason, "immediate")


class ActionEmergency(Action):
    """The person is in danger now: emergency numbers, then an urgent hand-off."""

    def name(self) -> str:
        """Action name."""
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Numbers first; no question in between."""
        send_emergency(dispatcher, tracker, reason="in_danger")
        return [SlotSet("risk", "immediate")]


class ActionHandoff(Action):
    """Asks for a person: says so honestly, gives numbers to call meanwhile, then the payload."""

    def name(self) -> str:
        """Action name."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Tell, list the lines with the button that goes back to the assistant, request the
        hand-off."""
        language = tracker.get_slot("language")
        dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(
            text=while_waiting(tracker.get_slot("country"), language),
            buttons=handoff.back_buttons(language),
        )
        reason: handoff.Reason = (
            "request_human"
            if tracker.get_intent_of_latest_message() == "request_human"
            else "screening"
        )
        _request(dispatcher, tracker, reason, tracker.get_slot("risk"))
        return []
