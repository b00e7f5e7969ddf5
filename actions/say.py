"""Sending a content text as the bubbles it is written in (a blank line starts a new one)."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from hotline.content import bubbles


def say(
    dispatcher: CollectingDispatcher, text: str, buttons: list[dict[str, str]] | None = None
) -> None:
    """One message per paragraph of the text, the buttons under the last."""
    parts = bubbles(text) or [text]
    for part in parts[:-1]:
        dispatcher.utter_message(text=part)
    if buttons:
        dispatcher.utter_message(text=parts[-1], buttons=buttons)
    else:
        dispatcher.utter_message(text=parts[-1])
