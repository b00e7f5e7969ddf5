"""Which language and country the conversation is in: kept in slots after every message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from hotline.content import COUNTRIES
from hotline.language import LANGUAGES


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The value of an entity in the latest message (set by a button payload), if any."""
    return next(tracker.get_latest_entity_values(entity), None)


def validate_known(tracker: Tracker, allowed: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Slot events for this turn's values of the given slots: kept if allowed, else cleared."""
    return [
        SlotSet(slot, value if value in allowed[slot] else None)
        for slot, value in tracker.slots_to_validate().items()
        if slot in allowed
    ]


def chosen_language(tracker: Tracker) -> str | None:
    """A language the person picked this turn, by a button or by naming it."""
    picked = latest_entity(tracker, "language") or tracker.latest_message.get("named_language")
    return picked if picked in LANGUAGES else None


class ValidatePredefinedSlots(ValidationAction):
    """Sets `language` and `country` from the latest message (action_validate_slot_mappings)."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Only the conversation-wide slots; the screening form fills its own."""
        return ["language", "country"]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Only the languages and countries the assistant knows."""
        return validate_known(tracker, {"language": LANGUAGES, "country": COUNTRIES})

    def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A picked language, else the language the message is written in; unknown keeps the old."""
        language = chosen_language(tracker) or tracker.latest_message.get("language")
        if language in LANGUAGES and language != tracker.get_slot("language"):
            return {"language": language}
        return {}

    def extract_country(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A country picked by button, or named when asked for or told unprompted."""
        country = latest_entity(tracker, "country")
        asked = tracker.get_slot("requested_slot") == "country"
        if country is None and (
            asked or tracker.get_intent_of_latest_message() == "choose_country"
        ):
            country = tracker.latest_message.get("named_country")
        if country in COUNTRIES and country != tracker.get_slot("country"):
            return {"country": country}
        return {}


class ActionChooseLanguage(Action):
    """Confirms a language the person picked, or asks which one with buttons."""

    def name(self) -> str:
        """Action name."""
        return "action_choose_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Confirm and show the menu, or ask."""
        if chosen_language(tracker):
            dispatcher.utter_message(response="utter_language_set")
            dispatcher.utter_message(response="utter_menu")
        else:
            dispatcher.utter_message(response="utter_ask_language")
        return []
