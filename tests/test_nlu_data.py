"""The NLU data: every contract intent in every language, and a clean held-out split."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from hotline.language import LANGUAGES, detect, find_listed
from tests.contract import INTENTS

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_INTENTS = set(INTENTS)


def examples(paths: list[Path]) -> dict[str, list[str]]:
    """Examples by intent from Rasa YAML NLU files."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" not in block:
                continue
            lines = [
                line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip()
            ]
            found.setdefault(block["intent"], []).extend(lines)
    return found


def training(language: str) -> dict[str, list[str]]:
    return examples(sorted((ROOT / "nlu_data" / language).glob("*.yml")))


def held_out(language: str) -> dict[str, list[str]]:
    return examples(sorted((ROOT / "tests" / "nlu_heldout").glob(f"{language}_*.yml")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_contract_intent_has_30_examples(language: str) -> None:
    found = training(language)
    short = {i: len(found.get(i, [])) for i in CONTRACT_INTENTS if len(found.get(i, [])) < 30}
    assert not short, f"{language}: {short}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_example_twice(language: str) -> None:
    every = [
        e for split in (training(language), held_out(language)) for v in split.values() for e in v
    ]
    repeated = [e for e, n in Counter(every).items() if n > 1]
    assert not repeated, f"{language}: {repeated[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_unrelated_example_says_a_danger_word(language: str) -> None:
    """Issue 16: "…ជួយផង" ("help!") taught as out of scope teaches the model to miss it. Only the
    hyperbole files say one, on purpose: "help, my phone fell in the water" is not danger (issue
    17), and bench/nlu.py --check (make test) holds in_danger recall at 98 %."""
    general = [
        p for p in sorted((ROOT / "nlu_data" / language).glob("*.yml")) if p.stem != "hyperbole"
    ]
    said = [e for e in examples(general).get("out_of_scope", []) if find_listed(e, "danger_words")]
    assert not said, f"{language}: {said}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_danger_example_laughs(language: str) -> None:
    """The danger guard stands back from a message that laughs ("555", "haha"): no in_danger
    example may, or the guard and the data would disagree."""
    from hotline.language import in_jest

    every = [*training(language)["in_danger"], *held_out(language)["in_danger"]]
    laughing = [e for e in every if in_jest(e)]
    assert not laughing, f"{language}: {laughing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_hyperbole_is_held_out_and_out_of_scope(language: str) -> None:
    """bench/nlu.py counts false alarms on these: everyday hyperbole, at least 40 messages."""
    found = examples([ROOT / "tests" / "nlu_heldout" / f"{language}_hyperbole.yml"])
    assert set(found) == {"out_of_scope"} and len(found["out_of_scope"]) >= 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_held_out_covers_every_training_intent(language: str) -> None:
    assert set(held_out(language)) == set(training(language))
    assert len(held_out(language)["in_danger"]) >= 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_examples_are_written_in_their_language(language: str) -> None:
    wrong = [
        e
        for split in (training(language), held_out(language))
        for intent, found in split.items()
        if intent not in ("out_of_scope", "choose_language")
        for e in found
        if detect(e) not in (language, None)
    ]
    assert len(wrong) <= 5, wrong


def test_a_third_of_the_vietnamese_has_no_diacritics() -> None:
    every = [e for v in training("vi").values() for e in v]
    plain = [e for e in every if e.isascii()]
    assert len(plain) / len(every) >= 0.3


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_words_that_bring_a_person_back_are_taught(language: str) -> None:
    """After an operator closes, the person is told what to type to reach a person again: those
    words must be a request_human example, so that typing them works."""
    from hotline.content import gateway_texts

    suggested = re.findall(r'"([^"]+)"', gateway_texts()["handoff_closed"][language])
    assert suggested
    assert all(words in training(language)["request_human"] for words in suggested)
