"""What the assistant understood of a message: the summary kept with it, the fallback without the
model, and how a long message is cut so that danger inside it is found."""

from __future__ import annotations

from hotline.understood import LONG_MESSAGE, PIECE_LENGTH, from_words, pieces, summary

THAI_STORY = (
    "ผมทำงานโรงงานที่สมุทรสาครมาสองปี เงินเดือนออกช้าบ่อยมาก อยากถามเรื่องสิทธิ์ตอนลาออกกับเรื่อง"
    "ประกันสังคม แล้วก็อยากรู้วิธีส่งเงินกลับบ้านให้แม่ เมื่อคืนหัวหน้าเอาไม้ตีผมแล้วล็อกห้องไว้ "
    "เรื่องวีซ่าต่ออายุยังไงด้วยครับ"
)


def test_a_rights_question_is_kept_with_its_topic() -> None:
    parse = {
        "intent": {"name": "rights", "full_retrieval_intent_name": "rights/passport_taken"},
        "language": "th",
    }
    assert summary(parse) == {
        "intent": "rights",
        "topic": "passport_taken",
        "danger": False,
        "language": "th",
    }


def test_danger_is_said_by_the_intent() -> None:
    understood = summary({"intent": {"name": "in_danger"}, "language": None})
    assert understood["danger"] and understood["language"] == ""


def test_without_the_model_danger_words_still_count() -> None:
    assert from_words("cuu toi voi, ho nhot toi")["danger"]
    assert from_words("cuu toi voi")["language"] == "vi"
    calm = from_words("ขอบคุณครับ")
    assert not calm["danger"] and calm["intent"] == "" and calm["language"] == "th"


def test_a_short_message_is_read_whole() -> None:
    assert pieces("cứu tôi, họ đang đánh tôi") == []
    assert pieces("ก" * LONG_MESSAGE) == []


def test_thai_is_cut_at_the_spaces_between_its_clauses() -> None:
    found = pieces(THAI_STORY)
    assert "เมื่อคืนหัวหน้าเอาไม้ตีผมแล้วล็อกห้องไว้" in found
    assert "".join(found) == THAI_STORY.replace(" ", "")


def test_vietnamese_is_cut_at_sentence_ends_and_commas() -> None:
    story = (
        "Tôi làm ở xưởng may ở Bangkok được hai năm rồi. Lương không đủ sống, chủ thường trả "
        "chậm vài tuần. Tôi muốn hỏi về quyền lợi khi nghỉ việc và tiền bảo hiểm. Hôm qua quản "
        "lý đánh tôi và khóa cửa phòng, không cho ra."
    )
    found = pieces(story)
    assert "Hôm qua quản lý đánh tôi và khóa cửa phòng," in found
    assert found[-1] == "không cho ra.", "a short last fragment is kept"


def test_short_fragments_join_and_no_piece_is_too_long() -> None:
    found = pieces(", ".join(["ok"] * 30) + ". " + "word " * 100)
    assert all(len(piece) <= PIECE_LENGTH for piece in found)
    assert all(len(piece) >= 10 for piece in found[:-1])
