"""Rasa's training cache retrains the tokenizer and the classifier when their code changes."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from rasa.engine.training.fingerprinting import calculate_fingerprint_key

from rasa_plugins import source_fingerprint
from rasa_plugins.intent_classifier import LinearIntentClassifier
from rasa_plugins.tokenizer import ScriptTokenizer


def test_the_digest_follows_the_source(tmp_path: Path) -> None:
    source = tmp_path / "component.py"
    source.write_text("X = 1\n")
    module = types.ModuleType("component")
    module.__file__ = str(source)
    before = source_fingerprint.of_modules(module)
    assert source_fingerprint.of_modules(module) == before
    source.write_text("X = 2\n")
    assert source_fingerprint.of_modules(module) != before


def test_the_digest_follows_the_data_the_code_reads(tmp_path: Path) -> None:
    """The tokenizer folds the spellings of hotline/lexicon/km_latin.yaml: a new spelling must
    re-tokenize the training data."""
    source, spellings = tmp_path / "component.py", tmp_path / "spellings.yaml"
    source.write_text("X = 1\n")
    spellings.write_text("spellings: [[knhom, nhom]]\n")
    module = types.ModuleType("component")
    module.__file__ = str(source)
    before = source_fingerprint.of_modules(module, data=(spellings,))
    spellings.write_text("spellings: [[knhom, nhom, khnhom]]\n")
    assert source_fingerprint.of_modules(module, data=(spellings,)) != before


@pytest.mark.parametrize("component", [LinearIntentClassifier, ScriptTokenizer])
def test_the_cache_key_changes_with_the_code(
    component: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = component.get_default_config()  # type: ignore[attr-defined]
    key = calculate_fingerprint_key(component, config, {})
    module = types.ModuleType("changed")
    module.__file__ = str(tmp_path / "changed.py")
    (tmp_path / "changed.py").write_text("changed = True\n")
    original = source_fingerprint.of_modules
    monkeypatch.setattr(
        source_fingerprint,
        "of_modules",
        lambda *modules, data=(): original(*modules, module, data=data),
    )
    assert calculate_fingerprint_key(component, config, {}) != key
