"""Leans the intent toward in_danger: when the classifier ranks it a close second, or when the
message holds a high-risk word (hotline/lexicon/danger.yaml).

A missed danger message is the worst error this assistant can make; answering a message that was
not a danger with emergency numbers is a far smaller one, but each false alarm takes an operator
from someone who needs them. So the guard stands back where the message itself says it is not
danger: when it laughs ("555", "haha", "kkk", "😂": "this game is killing me 555"), only the
classifier's own in_danger counts; when the classifier is sure it is out of scope (homework, a cat
up a tree, the news) and does not rank in_danger a close second, a danger word alone does not.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from hotline.language import find_listed, in_jest

DANGER = "in_danger"
OUT_OF_SCOPE = "out_of_scope"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DangerGuard(GraphComponent):
    """Promotes in_danger when it ranks in `top_k` above `min_confidence`, or on a danger word."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """How close a second in_danger must be to win."""
        return {"top_k": 2, "min_confidence": 0.15, "sure_out_of_scope": 0.6}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the thresholds."""
        self.top_k = int(config["top_k"])
        self.min_confidence = float(config["min_confidence"])
        self.sure_out_of_scope = float(config["sure_out_of_scope"])

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
        text = message.get(TEXT) or ""
        if in_jest(text):
            return None
        ranking = message.get(INTENT_RANKING_KEY) or []
        for entry in ranking[: self.top_k]:
            if entry.get("name") == DANGER and entry.get("confidence", 0.0) >= self.min_confidence:
                return "close second"
        if find_listed(text, "danger_words") and not self._sure_out_of_scope(message):
            return "danger word"
        return None

    def _sure_out_of_scope(self, message: Message) -> bool:
        """The classifier is sure the message is unrelated (and in_danger is no close second)."""
        top = message.get(INTENT) or {}
        return bool(
            top.get("name") == OUT_OF_SCOPE and top.get("confidence", 0.0) >= self.sure_out_of_scope
        )
