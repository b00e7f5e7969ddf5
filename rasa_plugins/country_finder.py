"""Adds to each parsed message the country it names, if any ("ở Campuchia" -> "kh")."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from hotline.language import named_country


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CountryFinder(GraphComponent):
    """Sets `named_country` (th, vn, kh, other or None) on every message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CountryFinder:
        """Creates the component."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotates each message with the country it names."""
        for message in messages:
            message.set("named_country", named_country(message.get(TEXT) or ""), add_to_output=True)
        return messages
