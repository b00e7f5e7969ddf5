"""Language detection by script and by name, and country names."""

from pathlib import Path

import pytest

from hotline.language import detect, named_country, named_language, said_alone, strip_diacritics

HELD_OUT = Path(__file__).resolve().parent / "nlu_heldout"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("นายจ้างยึดพาสปอร์ตผม", "th"),
        ("ช่วยด้วย", "th"),
        ("ខ្ញុំត្រូវគេរឹបអូសលិខិតឆ្លងដែន", "km"),
        ("ជួយផង", "km"),
        ("Tôi bị giữ hộ chiếu", "vi"),
        ("toi bi giu ho chieu", "vi"),
        ("cuu toi voi", "vi"),
        ("khong duoc tra luong", "vi"),
        ("hello how are you", None),
        ("please help me", None),
        ("🙏🙏🙏", None),
        ("", None),
        ("12345", None),
        ("ສະບາຍດີ", None),  # Lao
        ("မင်္ဂလာပါ", None),  # Myanmar
        ("boss เก็บ passport", "th"),
        ("ខ្ញុំ at Bangkok", "km"),
    ],
)
def test_detect(text: str, expected: str | None) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Khmer typed in Latin letters, in several spellings
        ("knhom chong tov phteah vinh", "km"),
        ("nhom jong trolob tov srok vinh", "km"),
        ("khnhom chong tv phteas vinh", "km"),
        ("orkun bong", "km"),
        ("arkun", "km"),
        ("sousdey bong", "km"),
        ("juoy phong", "km"),
        ("chuoy nhom phong ke veay nhom", "km"),
        ("ke chak sor knhom knong bantob", "km"),
        ("thaokae ot oy luy 3 khae hoy", "km"),
        ("taokae min berk luy khae", "km"),
        ("ke yok passport knhom", "km"),
        # Vietnamese without diacritics, some with words Khmer spells alike (chong, phong)
        ("toi bi giu ho chieu", "vi"),
        ("chong toi bi danh", "vi"),
        ("em o phong tro khong ra duoc", "vi"),
        ("cuu toi voi", "vi"),
        ("khong duoc tra luong", "vi"),
        ("e bi chu giu passport r", "vi"),
        ("ong chu khong tra tien", "vi"),
        # English, and words both could be
        ("please help me", None),
        ("help me please they hit me", None),
        ("my boss does not pay me", None),
        ("i want to go home", None),
        ("thank you so much", None),
        ("bat", None),
        ("men at the mean song", None),
    ],
)
def test_khmer_in_latin_letters(text: str, expected: str | None) -> None:
    assert detect(text) == expected


def test_vietnamese_without_diacritics_stays_vietnamese() -> None:
    """Every plain-ASCII Vietnamese example of the training and held-out data: none reads as
    Khmer but those that name Khmer ("khmer please")."""
    from tests.test_nlu_data import held_out, training

    plain = [
        e
        for split in (training("vi"), held_out("vi"))
        for found in split.values()
        for e in found
        if e.isascii()
    ]
    khmer = [e for e in plain if detect(e) == "km" and "khmer" not in e.lower()]
    assert len(plain) > 1000 and not khmer, khmer


def test_most_romanized_khmer_reads_as_khmer() -> None:
    """The held-out romanized Khmer: a message too short to tell (a bare "bat") reads as no
    language and keeps the conversation's, but never as Vietnamese."""
    from tests.test_nlu_data import examples

    said = [e for found in examples([HELD_OUT / "km_romanized.yml"]).values() for e in found]
    found = [detect(e) for e in said]
    assert "vi" not in found and found.count("km") >= 0.85 * len(said)


def test_mixed_thai_and_khmer_goes_to_the_larger_script() -> None:
    assert detect("ជួយខ្ញុំផង ช่วย") == "km"
    assert detect("ช่วยด้วยครับ ជួយ") == "th"


def test_strip_diacritics() -> None:
    assert strip_diacritics("Hộ chiếu ĐÂU") == "ho chieu dau"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ขอภาษาเขมรได้ไหม", "km"),
        ("nói tiếng Việt đi", "vi"),
        ("noi tieng viet", "vi"),
        ("សូមនិយាយភាសាថៃ", "th"),
        ("ภาษาไทยค่ะ", "th"),
        ("สวัสดีครับ", None),
    ],
)
def test_named_language(text: str, expected: str | None) -> None:
    assert named_language(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ตอนนี้อยู่กัมพูชา", "kh"),
        ("tôi đang ở Campuchia", "kh"),
        ("toi dang o thai lan", "th"),
        ("ខ្ញុំនៅប្រទេសថៃ", "th"),
        ("em ở Việt Nam", "vn"),
        ("อยู่พม่า", "other"),
        ("ខ្ញុំនៅមីយ៉ាន់ម៉ា", "other"),
        ("xin chào", None),
    ],
)
def test_named_country(text: str, expected: str | None) -> None:
    assert named_country(text) == expected


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("หัวหน้า บอก จะ ยิง ทิ้ง ถ้า ไม่ ทำ งาน", True),
        ("họ nhốt tôi trong phòng", True),
        ("nho cuu toi voi", True),
        ("nghiên cứu về luật lao động", False),
        ("បើគេដឹង ខ្ញុំងាប់ហើយ", True),
        ("ไม่มีวีซ่า จะโดนขังไหม", False),
        ("ko, e ko bị đánh", False),
        ("chuoy phong ke veay knhom", True),
        ("knhom chong tov phteah vinh", False),
    ],
)
def test_danger_words(text: str, found: bool) -> None:
    from hotline.language import find_listed

    assert (find_listed(text, "danger_words") is not None) is found


@pytest.mark.parametrize("typed", ["ยกเลิก", "ยกเลิก!", "Quay lại", "quay lai.", "ត្រឡប់ក្រោយ", "Huỷ"])
def test_words_said_alone_are_found(typed: str) -> None:
    assert said_alone(typed, "withdraw_words") == "back"


@pytest.mark.parametrize("typed", ["ยกเลิกสัญญาได้ไหม", "tôi muốn quay lại Việt Nam", "ត្រឡប់ទៅផ្ទះ"])
def test_words_inside_a_message_are_not_said_alone(typed: str) -> None:
    assert said_alone(typed, "withdraw_words") is None
