"""The danger guard, followed by Rasa's own FallbackClassifier as in config.yml."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.message import Message

from hotline.language import in_jest
from rasa_plugins.danger_guard import DangerGuard


def classified(text: str, ranking: list[tuple[str, float]]) -> Message:
    """A message as the intent classifier leaves it."""
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={"text": text, "intent": entries[0], "intent_ranking": entries})


def guarded(message: Message, tmp_path: Any) -> dict[str, Any]:
    """The intent after the guard and the fallback classifier, with config.yml's thresholds."""
    DangerGuard(DangerGuard.get_default_config()).process([message])
    fallback = FallbackClassifier.create(
        {**FallbackClassifier.get_default_config(), "threshold": 0.35, "ambiguity_threshold": 0.05},
        LocalModelStorage(tmp_path),
        Resource("fallback"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    fallback.process([message])
    intent: dict[str, Any] = message.get("intent")
    return intent


def test_a_danger_word_wins_even_when_the_classifier_was_torn(tmp_path: Any) -> None:
    # Two intents nearly tied: without the ranking fixed, this became nlu_fallback.
    message = classified("ถูกขังมาหลายวันแล้ว", [("rights", 0.41), ("greet", 0.39)])
    assert guarded(message, tmp_path)["name"] == "in_danger"
    assert message.get("danger_guard")["reason"] == "danger word"
    assert message.get("danger_guard")["classifier"][0] == {"name": "rights", "confidence": 0.41}


def test_a_danger_word_wins_over_a_confident_classifier(tmp_path: Any) -> None:
    # The classifier was sure of something else: 0.99 against 0.96 was too close for the
    # FallbackClassifier, and this became nlu_fallback.
    message = classified("เอสโอเอส", [("affirm", 0.964), ("greet", 0.01)])
    assert guarded(message, tmp_path)["name"] == "in_danger"


def test_a_danger_word_wins_over_low_confidence(tmp_path: Any) -> None:
    message = classified("cuu toi voi", [("greet", 0.2), ("thank", 0.1)])
    assert guarded(message, tmp_path)["name"] == "in_danger"


def test_a_close_second_in_danger_wins(tmp_path: Any) -> None:
    message = classified("เขาไม่ให้ออกไปไหน", [("rights", 0.55), ("in_danger", 0.3)])
    assert guarded(message, tmp_path)["name"] == "in_danger"
    assert message.get("danger_guard")["reason"] == "close second"
    assert message.get("intent_ranking") == [{"name": "in_danger", "confidence": 1.0}]


def test_a_far_third_in_danger_does_not(tmp_path: Any) -> None:
    message = classified(
        "ค่าแรงขั้นต่ำเท่าไหร่", [("rights", 0.7), ("out_of_scope", 0.2), ("in_danger", 0.1)]
    )
    assert guarded(message, tmp_path)["name"] == "rights"
    assert message.get("danger_guard") is None


def test_a_torn_ordinary_message_still_falls_back(tmp_path: Any) -> None:
    message = classified("อืม", [("affirm", 0.4), ("unsure", 0.38)])
    assert guarded(message, tmp_path)["name"] == "nlu_fallback"


def test_a_danger_word_said_laughing_is_left_to_the_classifier(tmp_path: Any) -> None:
    # "Help! This boss is so hard 555": the laugh says it is a game, not danger.
    message = classified("ช่วยด้วย บอสด่านนี้ยากมาก 555", [("out_of_scope", 0.4), ("in_danger", 0.3)])
    assert guarded(message, tmp_path)["name"] == "out_of_scope"
    assert message.get("danger_guard") is None


def test_a_laugh_does_not_undo_the_classifiers_own_danger(tmp_path: Any) -> None:
    message = classified("cuu em voi haha", [("in_danger", 0.7), ("out_of_scope", 0.2)])
    assert guarded(message, tmp_path)["name"] == "in_danger"


def test_a_danger_word_in_a_sure_out_of_scope_message_is_no_alarm(tmp_path: Any) -> None:
    # "My phone fell in the water, help, it won't turn on."
    message = classified("มือถือตกน้ำ ช่วยด้วย เปิดไม่ติด", [("out_of_scope", 0.8), ("in_danger", 0.1)])
    assert guarded(message, tmp_path)["name"] == "out_of_scope"


def test_a_close_second_wins_even_when_out_of_scope_looks_sure(tmp_path: Any) -> None:
    # "It hurts all over, a group stomped on me last night": 0.66 out of scope was not sure enough.
    message = classified(
        "เจ็บไปหมดทั้งตัว โดนรุมกระทืบเมื่อคืน", [("out_of_scope", 0.66), ("in_danger", 0.31)]
    )
    assert guarded(message, tmp_path)["name"] == "in_danger"


def test_a_danger_word_wins_when_out_of_scope_is_unsure(tmp_path: Any) -> None:
    message = classified("ช่วยด้วย เขามาแล้ว", [("out_of_scope", 0.5), ("greet", 0.2)])
    assert guarded(message, tmp_path)["name"] == "in_danger"


@pytest.mark.parametrize(
    ("text", "laughs"),
    [
        ("ช่วยด้วย 555", True),
        ("5555555", True),
        ("cuu em voi kkk", True),
        ("cười xỉu =))", True),
        ("hahaha", True),
        ("lol", True),
        ("ฮ่าๆๆ", True),
        ("ហាហា", True),
        ("😂", True),
        ("ช่วยด้วย", False),
        ("โทร 0855512345", False),
        ("มีเงิน 5,555 บาท", False),
        ("😭", False),
        ("help me", False),
    ],
)
def test_laughter(text: str, laughs: bool) -> None:
    assert in_jest(text) is laughs
