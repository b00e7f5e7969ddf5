"""The content lint (hotline/content_lint.py): the content passes it, and it catches each kind of
mistake a reviewer could make."""

from __future__ import annotations

import pytest

from hotline import content_lint, responses
from hotline.content_lint import LABEL_LIMIT, problems, problems_of
from hotline.user_texts import UserText, every_text

THAI = "ฉันช่วยได้ค่ะ"
VIETNAMESE = "Tôi có thể giúp bạn."
KHMER = "ខ្ញុំអាចជួយអ្នកបាន។"


def entry(kind: str = "bubble", **texts: str) -> UserText:
    """A text as the sheet would propose it: good words unless told otherwise."""
    words = {"th": THAI, "vi": VIETNAMESE, "km": KHMER, **texts}
    return UserText("test.entry", "turns.yaml", ("turns", "x"), kind, "meaning", words)  # type: ignore[arg-type]


def messages(found: list[content_lint.Problem]) -> list[str]:
    return [f"{p.language}: {p.message}" for p in found]


def test_the_content_passes_the_lint() -> None:
    assert [str(p) for p in problems()] == []


def test_the_assistants_turns_are_made_from_the_content() -> None:
    assert responses.current()


def test_good_words_pass() -> None:
    assert problems_of(entry()) == []
    assert problems_of(entry("label", th="สิทธิของฉัน", vi="Quyền của tôi", km="សិទ្ធិរបស់ខ្ញុំ")) == []


def test_every_text_has_an_english_meaning_and_all_three_languages() -> None:
    assert all(text.en and all(text.texts.values()) for text in every_text())
    assert messages(problems_of(entry(km=" "))) == ["km: missing"]


@pytest.mark.parametrize(
    ("label", "too_long"),
    [
        ("ពិនិត្យស្ថានភាពរបស់ខ្ញុំ", True),  # 24 code points: each Khmer sign counts
        ("ตรวจสอบสถานการณ์ของฉัน", True),  # 22: Thai vowels and tone marks count
        ("Kiểm tra tình cảnh", False),  # 18
        ("ถูกยึดหนังสือเดินทาง", False),  # exactly 20
    ],
)
def test_a_label_is_counted_in_code_points(label: str, too_long: bool) -> None:
    found = problems_of(entry("label", th=label))
    assert bool(found) is too_long
    assert len(label) > LABEL_LIMIT or not found


def test_a_long_bubble_must_be_split_or_shortened() -> None:
    long = " ".join(
        f"Câu số {n}: tôi có thể giúp bạn khi gặp vấn đề ở nơi làm việc." for n in range(6)
    )
    assert "a bubble of" in messages(problems_of(entry(vi=long)))[0]
    split = long[:150] + "\n\n" + long[150:]
    assert problems_of(entry(vi=split)) == []


def test_a_thai_turn_ends_with_the_assistants_particle() -> None:
    assert "ค่ะ or คะ" in messages(problems_of(entry(th="ฉันช่วยได้")))[0]
    for good in ("ตอนนี้ปลอดภัยไหมคะ?", "ฉันช่วยได้ค่ะ (มาตรา 41)", "โทรได้ที่นี่ค่ะ เบอร์:"):
        assert problems_of(entry(th=good)) == [], good
    # An operator's phrase speaks in the operator's voice.
    said = {**entry().texts, "th": "ผมช่วยได้ครับ"}
    phrase = UserText("p", "canned.yaml", ("p", "text"), "bubble", "m", said, assistant=False)
    assert problems_of(phrase) == []


def test_only_hotline_numbers_are_stated() -> None:
    assert "states 1234567" in messages(problems_of(entry(vi="Hãy gọi 123 4567.")))[0]
    assert problems_of(entry(vi="Hãy gọi 1300. Luật năm 2008.")) == []
    assert "states 999" in messages(problems_of(entry(km="សូមហៅ ៩៩៩។")))[0]  # Khmer digits too


def test_legal_references_are_in_the_readers_language() -> None:
    found = messages(problems_of(entry(vi="Theo luật (Art. 37), bạn có quyền.")))
    assert found == ["vi: a legal reference in English: write มาตรา, Điều or មាត្រា"]


def test_a_text_in_the_wrong_language_or_form_is_caught() -> None:
    assert "reads as" in messages(problems_of(entry(km=VIETNAMESE)))[0]
    decomposed = "Tôi có thể giúp bạn.".replace("ô", "o\u0302")
    assert "NFC" in messages(problems_of(entry(vi=decomposed)))[0]
    assert (
        "twice"
        in messages(problems_of(entry(vi="Bạn có thể nhắn nhắn ở đây ở đây bất cứ lúc nào.")))[0]
    )
