"""Leans the intent toward in_danger when the classifier ranks it a close second.

A missed danger message is the worst error this assistant can make; answering a message that was
not a danger with emergency numbers is a far smaller one. So when `in_danger` is among the top
intents with some confidence, it wins.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

DANGER = "in_danger"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DangerGuard(GraphComponent):
    """Promotes in_danger to the intent when it ranks within `top_k` above `min_confidence`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """How close a second in_danger must be to win."""
        return {"top_k": 2, "min_confidence": 0.15}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the thresholds."""
        self.top_k = int(config["top_k"])
        self.min_confidence = float(config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DangerGuard:
        """Creates the component."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets the intent to in_danger where the ranking says it is close."""
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            top = message.get(INTENT) or {}
            if not ranking or top.get("name") == DANGER:
                continue
            for entry in ranking[: self.top_k]:
                if (
                    entry.get("name") == DANGER
                    and entry.get("confidence", 0.0) >= self.min_confidence
                ):
                    promoted = {"name": DANGER, "confidence": top.get("confidence", 1.0)}
                    message.set(INTENT, promoted, add_to_output=True)
                    message.set("danger_guard", True, add_to_output=True)
                    break
        return messages
