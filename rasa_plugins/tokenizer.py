"""One tokenizer for three scripts: Thai by pythainlp (newmm), Khmer by khmer-nltk, the rest
(Vietnamese, Latin, digits) by underthesea. All three run offline from data their packages ship."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from khmernltk import word_tokenize as khmer_words
from pythainlp.tokenize import word_tokenize as thai_words
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from underthesea import word_tokenize as vietnamese_words

import hotline.language
from hotline.language import (
    KHMER_RANGE,
    KHMER_SPELLINGS,
    LAUGHTER,
    THAI_RANGE,
    khmer_in_latin_letters,
    khmer_spelling,
    strip_diacritics,
)
from rasa_plugins import source_fingerprint

# khmer-nltk announces its model at INFO level on import; keep the logs quiet.
logging.getLogger("khmer-nltk").setLevel(logging.WARNING)

# Runs of one script; zero-width spaces (common in typed Khmer) and whitespace separate runs.
_OTHER = rf"[^\s\u200b{THAI_RANGE}{KHMER_RANGE}]+"
_RUNS = re.compile(
    rf"(?P<thai>[{THAI_RANGE}]+)"
    rf"|(?P<khmer>[{KHMER_RANGE}]+)"
    rf"|(?P<other>{_OTHER}(?:[ \t]+{_OTHER})*)"
)
_WORDLIKE = re.compile(r"\w", re.UNICODE)
# The lemma of every laugh ("555", "hahaha", "kkk", "=))", "ហាហា", "😂"): one feature the
# classifier can weigh, however it was typed.
LAUGH = "555"


def split_words(text: str) -> list[tuple[str, int]]:
    """Words of a message with their offsets, each script cut by its own segmenter."""
    words: list[tuple[str, int]] = []
    for run in _RUNS.finditer(text):
        if run.lastgroup == "thai":
            pieces = thai_words(run.group(), engine="newmm", keep_whitespace=False)
        elif run.lastgroup == "khmer":
            pieces = khmer_words(run.group())
        else:
            pieces = vietnamese_words(run.group())
        words.extend(_locate(pieces, run.group(), run.start()))
    kept = [(w, start) for w, start in words if _WORDLIKE.search(w)]
    if kept:
        return kept
    # Nothing word-like (emoji, punctuation): keep what there is so the message is not empty.
    return [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]


def _locate(pieces: list[str], run: str, offset: int) -> list[tuple[str, int]]:
    """Offsets of the segmenter's pieces in the run; pieces it changed are skipped."""
    found, position = [], 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        at = run.find(piece, position)
        if at < 0:
            continue
        found.append((piece, offset + at))
        position = at + len(piece)
    return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ScriptTokenizer(Tokenizer):
    """Tokenizes Thai, Khmer and Vietnamese; each token's lemma is its form without tone marks."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The defaults every Rasa tokenizer takes."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Re-tokenizes the training data when this module's or the folding's code changes, or the
        Latin spellings of Khmer it folds."""
        return source_fingerprint.of_modules(
            sys.modules[__name__], hotline.language, data=(KHMER_SPELLINGS,)
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScriptTokenizer:
        """Creates the component."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens of one attribute of a message."""
        text = message.get(attribute) or ""
        # Khmer typed in Latin letters has no one spelling: "nhom" and "khnhom" read as "knhom".
        # (English words in Khmer script, "boss", "passport", stay as they are.)
        khmer = khmer_in_latin_letters(text)
        tokens = []
        for word, start in split_words(text):
            folded = strip_diacritics(word) if _is_latin(word) else word.lower()
            if khmer and _is_latin(word):
                folded = " ".join(khmer_spelling(syllable) for syllable in folded.split())
            if LAUGHTER.fullmatch(word):
                folded = LAUGH
            tokens.append(Token(word, start, lemma=folded))
        # Laughs the segmenters drop or cut ("=))", "😂", "ហិហិ") become a token of their own.
        laughs = [
            Token(m.group(), m.start(), lemma=LAUGH)
            for m in LAUGHTER.finditer(text)
            if not any(t.start == m.start() and t.lemma == LAUGH for t in tokens)
        ]
        tokens = sorted([*tokens, *laughs], key=lambda t: t.start)
        kept: list[Token] = self._apply_token_pattern(tokens)
        return kept


def _is_latin(word: str) -> bool:
    """Latin script (with Vietnamese letters), digits and punctuation: not Thai or Khmer, whose
    vowel signs are combining marks that folding would strip ("ลับ" secret would read as "ลบ"
    delete)."""
    return all(ord(c) < 0x0370 or 0x1E00 <= ord(c) <= 0x1EFF for c in word)
