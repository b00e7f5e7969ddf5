"""Leans the intent toward in_danger: when the classifier ranks it a close second, or when the
message holds a high-risk word (hotline/lexicon/danger.yaml).

A missed danger message is the worst error this assistant can make; answering a message that was
not a danger with emergency numbers is a far smaller one.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from hotline.language import find_listed

DANGER = "in_danger"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DangerGuard(GraphComponent):
    """Promotes in_danger when it ranks in `top_k` above `min_confidence`, or on a danger word."""

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
        """Sets the intent to in_danger where the ranking or a danger word says so."""
        for message in messages:
            top = message.get(INTENT) or {}
            if top.get("name") == DANGER or not top:
                continue
            reason = self._reason(message)
            if reason:
                # The rule overrides the classifier: in_danger alone, so that Rasa's
                # FallbackClassifier finds nothing close to it and cannot turn it into
                # nlu_fallback. What the classifier said is kept beside it.
                promoted = {"name": DANGER, "confidence": 1.0}
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT, promoted, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [promoted], add_to_output=True)
                message.set(
                    "danger_guard", {"reason": reason, "classifier": ranking}, add_to_output=True
                )
        return messages

    def _reason(self, message: Message) -> str | None:
        if find_listed(message.get(TEXT) or "", "danger_words"):
            return "danger word"
        for entry in (message.get(INTENT_RANKING_KEY) or [])[: self.top_k]:
            if entry.get("name") == DANGER and entry.get("confidence", 0.0) >= self.min_confidence:
                return "close second"
        return None
