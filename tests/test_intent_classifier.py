"""The linear intent classifier, trained and loaded through Rasa's own model storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_plugins.intent_classifier import LinearIntentClassifier
from rasa_plugins.tokenizer import ScriptTokenizer

EXAMPLES = {
    "greet": ["สวัสดีครับ", "หวัดดีค่ะ", "xin chào", "chao chi", "ជំរាបសួរ", "សួស្តីបង"],
    "in_danger": [
        "ช่วยด้วย เขาขังฉันไว้",
        "มีคนจะฆ่าผม",
        "cứu tôi với họ nhốt tôi",
        "cuu toi voi, bi danh",
        "ជួយខ្ញុំផង គេវាយខ្ញុំ",
        "គេឃុំខ្ញុំនៅក្នុងបន្ទប់",
    ],
    "rights/passport_taken": [
        "นายจ้างยึดพาสปอร์ต",
        "เขาเก็บพาสปอร์ตผมไว้",
        "chủ giữ hộ chiếu của tôi",
        "cong ty giu ho chieu",
        "ថៅកែរឹបអូសលិខិតឆ្លងដែន",
        "គេយកប៉ាស្ព័ររបស់ខ្ញុំ",
    ],
    "rights/unpaid_wages": [
        "นายจ้างไม่จ่ายเงินเดือน",
        "ค่าแรงไม่ได้มาสามเดือน",
        "chủ không trả lương",
        "bi no luong 3 thang",
        "ថៅកែមិនបើកប្រាក់ខែ",
        "ខ្ញុំមិនទាន់បានប្រាក់ឈ្នួល",
    ],
}


def message(text: str) -> Message:
    """A tokenized message, as the pipeline's tokenizer leaves it."""
    parsed = Message(data={"text": text})
    ScriptTokenizer(ScriptTokenizer.get_default_config()).process([parsed])
    return parsed


def training_data() -> TrainingData:
    examples = []
    for label, texts in EXAMPLES.items():
        intent, _, topic = label.partition("/")
        for text in texts:
            example = message(text)
            example.set("intent", intent)
            if topic:
                example.set("intent_response_key", label)
            examples.append(example)
    return TrainingData(examples)


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def trained(storage: LocalModelStorage) -> LinearIntentClassifier:
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**LinearIntentClassifier.get_default_config(), "calibration_folds": 2}
    classifier = LinearIntentClassifier.create(config, storage, Resource("clf"), context)
    classifier.train(training_data())
    return classifier


def parse(classifier: LinearIntentClassifier, text: str) -> Message:
    return classifier.process([message(text)])[0]


def test_training_examples_get_their_intent(storage: LocalModelStorage) -> None:
    classifier = trained(storage)
    for label, texts in EXAMPLES.items():
        for text in texts:
            parsed = parse(classifier, text)
            assert parsed.get("intent")["name"] == label.partition("/")[0], text


def test_a_rights_topic_is_reported_as_the_response_selector_would(
    storage: LocalModelStorage,
) -> None:
    parsed = parse(trained(storage), "เขาเก็บพาสปอร์ตผมไว้")
    assert parsed.get("intent")["name"] == "rights"
    selector = parsed.get("response_selector")
    assert selector["all_retrieval_intents"] == ["rights"]
    assert selector["rights"]["response"]["intent_response_key"] == "rights/passport_taken"
    ranking = selector["rights"]["ranking"]
    assert [r["intent_response_key"] for r in ranking] == [
        "rights/passport_taken",
        "rights/unpaid_wages",
    ]
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_the_ranking_is_by_base_intent_and_sums_to_one(storage: LocalModelStorage) -> None:
    parsed = parse(trained(storage), "ช่วยด้วย เขาขังฉัน")
    ranking = parsed.get("intent_ranking")
    assert sorted(r["name"] for r in ranking) == ["greet", "in_danger", "rights"]
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert parsed.get("intent") == ranking[0]
    assert "response_selector" not in parsed.as_dict()


def test_a_loaded_model_parses_as_the_trained_one(storage: LocalModelStorage) -> None:
    classifier = trained(storage)
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = LinearIntentClassifier.load(classifier.config, storage, Resource("clf"), context)
    for text in ("cứu tôi với", "ថៅកែមិនបើកប្រាក់ខែ", "hello"):
        assert parse(loaded, text).as_dict() == parse(classifier, text).as_dict()


def test_a_message_without_words_has_no_intent(storage: LocalModelStorage) -> None:
    parsed = parse(trained(storage), "")
    assert parsed.get("intent") == {"name": None, "confidence": 0.0}
    assert parsed.get("intent_ranking") == []


def test_an_untrained_classifier_predicts_nothing(storage: LocalModelStorage) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    config = LinearIntentClassifier.get_default_config()
    loaded = LinearIntentClassifier.load(config, storage, Resource("never"), context)
    assert parse(loaded, "สวัสดี").get("intent") == {"name": None, "confidence": 0.0}
