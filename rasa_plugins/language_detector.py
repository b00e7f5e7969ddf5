"""Adds to each parsed message the language it is written in and any language it names."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from hotline.language import detect, named_language

# The /lang command every channel offers; it asks which language to use.
LANGUAGE_COMMAND = "/lang"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Sets `language` (by script) and `named_language` (e.g. "nói tiếng Khmer") on messages."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the component."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotates each message; `/lang` becomes the choose_language intent."""
        for message in messages:
            text = message.get(TEXT) or ""
            if text.strip().lower() == LANGUAGE_COMMAND:
                choose = {"name": "choose_language", "confidence": 1.0}
                message.set(INTENT, choose, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [choose], add_to_output=True)
                message.set("language", None, add_to_output=True)
                message.set("named_language", None, add_to_output=True)
                continue
            message.set("language", detect(text), add_to_output=True)
            named = named_language(text) if _intent(message) == "choose_language" else None
            message.set("named_language", named, add_to_output=True)
        return messages


def _intent(message: Message) -> str | None:
    intent = message.get(INTENT) or {}
    name = intent.get("name")
    return str(name) if name else None
