"""The person asks for this conversation to be deleted."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, Restarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

FORGET_PAYLOAD = {"forget_me": True}


class ActionForgetMe(Action):
    """Confirms, asks the router to delete the conversation, and forgets it in Rasa."""

    def name(self) -> str:
        """Action name."""
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say what happens, send the payload, reset."""
        dispatcher.utter_message(response="utter_forget_me")
        dispatcher.utter_message(json_message=FORGET_PAYLOAD)
        return [AllSlotsReset(), Restarted()]
