"""The script-dispatching tokenizer: words and offsets for Thai, Khmer and Vietnamese."""

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from rasa_plugins.tokenizer import ScriptTokenizer, split_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("นายจ้างยึดพาสปอร์ต", ["นายจ้าง", "ยึด", "พาสปอร์ต"]),
        ("ខ្ញុំត្រូវគេរឹបអូស", ["ខ្ញុំ", "ត្រូវ", "គេ", "រឹបអូស"]),
        ("Tôi bị giữ hộ chiếu", ["Tôi", "bị", "giữ", "hộ chiếu"]),
        ("boss เก็บ passport ខ្ញុំ", ["boss", "เก็บ", "passport", "ខ្ញុំ"]),
        ("ខ្ញុំ\u200bនៅ\u200bថៃ", ["ខ្ញុំ", "នៅ", "ថៃ"]),
        ("🙏🙏", ["🙏🙏"]),
        ("", []),
        ("   ", []),
    ],
)
def test_words(text: str, words: list[str]) -> None:
    assert [w for w, _ in split_words(text)] == words


def test_offsets_point_at_the_words() -> None:
    text = "ช่วยด้วย! Tôi ở ខ្ញុំនៅ"
    for word, start in split_words(text):
        assert text[start : start + len(word)] == word


def test_a_long_message_is_tokenized_whole() -> None:
    text = "ช่วยด้วย " * 600
    assert len(split_words(text)) == 600


@pytest.mark.parametrize(
    ("text", "lemmas"),
    [
        # Thai and Khmer vowel signs are combining marks: folding them away would make "secret"
        # (ลับ) read as "delete" (ลบ).
        ("ลับ ลบ", ["ลับ", "ลบ"]),
        ("ខ្ញុំ", ["ខ្ញុំ"]),
        ("Hộ chiếu ĐÂU", ["ho chieu", "dau"]),
        ("PASSPORT", ["passport"]),
    ],
)
def test_lemmas_fold_only_latin_script(text: str, lemmas: list[str]) -> None:
    message = Message(data={TEXT: text})
    tokens = ScriptTokenizer(ScriptTokenizer.get_default_config()).tokenize(message, TEXT)
    assert [t.lemma for t in tokens] == lemmas


@pytest.mark.parametrize(
    ("text", "lemmas"),
    [
        # Khmer in Latin letters: the spellings of a word fold into one (lexicon/km_latin.yaml)
        ("khnhom chong tv phteas vinh", ["knhom", "chong", "tov", "phteah", "vinh"]),
        ("nhom jong tou pteah vinh", ["knhom", "chong", "tov", "phteah", "vinh"]),
        ("arkun bong", ["orkun", "bong"]),
        # English inside Khmer script keeps its words ("at" is not អត់ "ot")
        ("ខ្ញុំ at Bangkok", ["ខ្ញុំ", "at", "bangkok"]),
        # Vietnamese keeps its words: "nhom" is a group, "chang" a young man
        ("nhom chat cua chang", ["nhom", "chat", "cua chang"]),
    ],
)
def test_khmer_spellings_fold_only_in_khmer(text: str, lemmas: list[str]) -> None:
    message = Message(data={TEXT: text})
    tokens = ScriptTokenizer(ScriptTokenizer.get_default_config()).tokenize(message, TEXT)
    assert [t.lemma for t in tokens] == lemmas


@pytest.mark.parametrize(
    ("text", "lemmas"),
    [
        ("ยากมาก 555", ["ยาก", "มาก", "555"]),
        ("haha lol", ["555", "555"]),
        ("ok 😂", ["ok", "555"]),
        ("បងស្រី ហិហិ", ["បង", "ស្រី", "555"]),
        ("โทร 0855512345", ["โทร", "0855512345"]),
    ],
)
def test_every_laugh_reads_alike(text: str, lemmas: list[str]) -> None:
    message = Message(data={TEXT: text})
    tokens = ScriptTokenizer(ScriptTokenizer.get_default_config()).tokenize(message, TEXT)
    assert [t.lemma for t in tokens] == lemmas
