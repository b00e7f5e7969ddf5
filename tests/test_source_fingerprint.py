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
        source_fingerprint, "of_modules", lambda *modules: original(*modules, module)
    )
    assert calculate_fingerprint_key(component, config, {}) != key
