"""Rights answers for the country the person is in, asking for the country first when unknown."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.language import latest_entity
from actions.say import say
from hotline import rights
from hotline.content import COUNTRIES, country_names
from hotline.hotlines import numbers

COUNTRY_LINE_ROLES = ("emergency", "trafficking", "abroad")


def ask_country(dispatcher: CollectingDispatcher, language: str | None) -> None:
    """Asks which country the person is in, with a button for each."""
    buttons = [
        {
            "title": country_names()[code][language or "en"],
            "payload": f'/choose_country{{"country":"{code}"}}',
        }
        for code in COUNTRIES
    ]
    dispatcher.utter_message(response="utter_which_country", buttons=buttons)


def asked_topic(tracker: Tracker) -> str | None:
    """The rights topic of the latest message: a button's entity or the response selector's pick."""
    topic = latest_entity(tracker, "rights_topic")
    if topic:
        return str(topic)
    selector = tracker.latest_message.get("response_selector") or {}
    for key in ("rights", "default"):
        picked = (selector.get(key) or {}).get("response", {}).get("intent_response_key")
        if picked:
            return str(picked).removeprefix(rights.TOPIC_PREFIX)
    return None


def send_answer(dispatcher: CollectingDispatcher, topic: str, country: str, language: str) -> None:
    """Sends the rights answer for a topic."""
    say(dispatcher, rights.answer(topic, country, language))


class ActionAskCountry(Action):
    """Asks which country the person is in (also question 0 of the screening)."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_country"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask with buttons."""
        ask_country(dispatcher, tracker.get_slot("language"))
        return []


class ActionAnswerRights(Action):
    """Answers a rights/* question for the person's country, from content/rights.yaml."""

    def name(self) -> str:
        """Action name."""
        return "action_answer_rights"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer, or ask for the country and keep the question for after."""
        topic = asked_topic(tracker)
        language = tracker.get_slot("language")
        country = tracker.get_slot("country")
        if topic not in rights.topics() or language is None:
            dispatcher.utter_message(response="utter_default")
            return []
        if country is None:
            ask_country(dispatcher, language)
            return [SlotSet("pending_rights_topic", topic)]
        send_answer(dispatcher, topic, country, language)
        return []


class ActionCountryChosen(Action):
    """After the person says where they are: the waiting rights answer, or that country's lines."""

    def name(self) -> str:
        """Action name."""
        return "action_country_chosen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer the kept question, or confirm the country with its phone lines."""
        language = tracker.get_slot("language")
        country = tracker.get_slot("country")
        if country is None or language is None:
            ask_country(dispatcher, language)
            return []
        topic = tracker.get_slot("pending_rights_topic")
        if topic:
            send_answer(dispatcher, topic, country, language)
            return [SlotSet("pending_rights_topic", None)]
        dispatcher.utter_message(
            response="utter_country_noted", country_name=country_names()[country][language]
        )
        lines = numbers(country, language, COUNTRY_LINE_ROLES)
        if lines:
            dispatcher.utter_message(text=lines)
        else:
            dispatcher.utter_message(response="utter_no_numbers_here")
        return []
