"""LINE's quick reply labels: never cut inside a letter (bot/line_channel.label)."""

from __future__ import annotations

import unicodedata

import pytest

from bot.line_channel import LABEL_LIMIT, label


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Số điện thoại", "Số điện thoại"),
        # The 21st code point is the vowel sign of the 20th letter: both go.
        ("ตรวจสอบสถานการณ์ของฉันนะ", "ตรวจสอบสถานการณ์ของ"),
        # A Khmer letter with its subscript (coeng + consonant) is not split.
        ("ពិនិត្យស្ថានភាពរបស់ខ្ញុំ", "ពិនិត្យស្ថានភាពរបស់"),
        ("កកកកកកកកកកកកកកកកកកក្ខ", "កកកកកកកកកកកកកកកកកក"),
        # A Thai leading vowel is not left without its consonant.
        ("กกกกกกกกกกกกกกกกกกกเด็ก", "กกกกกกกกกกกกกกกกกกก"),
        ("ก" * 20 + "ำ", "ก" * 19),
    ],
)
def test_a_label_is_cut_before_a_letter_never_inside_it(title: str, shown: str) -> None:
    cut = label(title)
    assert cut == shown
    assert len(cut) <= LABEL_LIMIT
    rest = title[len(cut) :].lstrip()
    assert not rest or not unicodedata.category(rest[0]).startswith("M")
