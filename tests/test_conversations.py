"""Whole conversations through the real servers: Redis, the action server and Rasa's REST channel.

Slower than the other tests (the servers start once per session); nothing of the project is mocked.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from typing import Any

import pytest
import redis
import yaml

from hotline import rights
from hotline.language import detect
from hotline.sealer import Sealer
from tests.servers import MESSAGE_KEY, ROOT, free_port

pytestmark = pytest.mark.servers

Reply = dict[str, Any]


def say(url: str, sender: str, text: str) -> list[Reply]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        replies: list[Reply] = json.load(response)
    return replies


def texts(replies: list[Reply]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def handoffs(replies: list[Reply]) -> list[dict[str, Any]]:
    return [r["custom"]["handoff"] for r in replies if "handoff" in r.get("custom", {})]


def test_thai_rights_screening_and_handoff(rasa_url: str, redis_client: redis.Redis) -> None:
    me = "th-person"
    greeting = say(rasa_url, me, "สวัสดีครับ")
    assert detect(texts(greeting)) == "th" and greeting[-1]["buttons"]

    asked = say(rasa_url, me, "นายจ้างเก็บพาสปอร์ตผมไว้ไม่ยอมคืน ทำยังไงได้บ้าง")
    assert [b["payload"] for b in asked[-1]["buttons"]][0] == '/choose_country{"country":"th"}'
    answer = texts(say(rasa_url, me, '/choose_country{"country":"th"}'))
    assert "พาสปอร์ต" in answer or "หนังสือเดินทาง" in answer
    assert "☎ 1300" in answer

    consent = say(rasa_url, me, "อยากเช็คว่าผมถูกค้ามนุษย์หรือเปล่า")
    assert "9 " in texts(consent)
    first = say(rasa_url, me, "/affirm")  # the country is known: question 1 comes at once
    assert texts(first).startswith("1/9")
    answers = ["/deny", "/cannot_leave", "/affirm", "/affirm", "/unsure", "/skip"] + ["/deny"] * 3
    for reply in answers:
        last = say(rasa_url, me, reply)
    assert handoffs(last) == []
    assert "•" in texts(last)  # the signs found
    accepted = say(rasa_url, me, "/affirm")
    (handoff,) = handoffs(accepted)
    assert "custom" in accepted[-1]
    assert handoff == {
        "reason": "screening",
        "risk": "high",
        "language": "th",
        "country": "th",
        "answers": {
            "q1_danger": "no",
            "q2_free_to_leave": "no",
            "q3_documents_kept": "yes",
            "q4_debt": "yes",
            "q5_underpaid": "unsure",
            "q6_deceived": "skipped",
            "q7_threatened": "no",
            "q8_isolated": "no",
            "q9_under_18": "no",
        },
    }
    assert redis_client.exists(f"rasa:tracker:{me}")  # Rasa keeps its tracker in Redis


def test_vietnamese_without_diacritics_in_danger(rasa_url: str) -> None:
    replies = say(rasa_url, "vi-person", "cuu toi voi, ho nhot toi trong phong")
    assert detect(texts(replies[:1])) == "vi"
    for number in ("113", "111", "117", "191"):  # no country yet: every country's lines
        assert f"☎ {number}" in texts(replies)
    (handoff,) = handoffs(replies)
    assert handoff["risk"] == "immediate" and handoff["reason"] == "in_danger"


def test_khmer_in_latin_letters_is_answered_in_khmer(rasa_url: str) -> None:
    """Issue 17: no Khmer keyboard. "Help, they hit me" in Latin letters is danger, answered in
    Khmer script with every country's lines, not with the language question."""
    replies = say(rasa_url, "km-latin-danger", "juoy nhom phong ke veay knhom")
    assert detect(texts(replies[:1])) == "km"
    assert "☎ 191" in texts(replies)
    (handoff,) = handoffs(replies)
    assert handoff["risk"] == "immediate" and handoff["language"] == "km"
    thanks = say(rasa_url, "km-latin-thanks", "orkun bong")
    assert detect(texts(thanks)) == "km"
    assert not any(
        b["payload"].startswith("/choose_language") for b in thanks[-1].get("buttons", [])
    )


def test_a_person_who_picks_khmer_can_write_in_latin_letters(rasa_url: str) -> None:
    me = "km-latin-picker"
    picker = say(rasa_url, me, "hello, can you help me")
    assert any("/choose_language" in b["payload"] for b in picker[-1].get("buttons", []))
    say(rasa_url, me, '/choose_language{"language":"km"}')
    for typed in ("i want to go home", "knhom chong tov phteah vinh"):
        replies = say(rasa_url, me, typed)
        assert detect(texts(replies)) == "km", typed


def test_khmer_danger_interrupts_the_screening(rasa_url: str) -> None:
    me = "km-person"
    say(rasa_url, me, "សួស្តី")
    say(rasa_url, me, "ខ្ញុំចង់ដឹងថាខ្ញុំជាជនរងគ្រោះនៃការជួញដូរមនុស្សឬអត់")
    country = say(rasa_url, me, "/affirm")
    assert country[-1]["buttons"][0]["payload"] == '/choose_country{"country":"th"}'
    say(rasa_url, me, "ខ្ញុំនៅប្រទេសថៃ")
    replies = say(rasa_url, me, "ជួយផង គេចាក់សោខ្ញុំក្នុងបន្ទប់")
    assert "☎ 191" in texts(replies)
    (handoff,) = handoffs(replies)
    assert handoff == {
        "reason": "in_danger",
        "risk": "immediate",
        "language": "km",
        "country": "th",
        "answers": {},
    }
    after = say(rasa_url, me, "/affirm")  # the form is over: a yes is no longer an answer
    assert not texts(after).startswith("1/9")


def to_question_2(url: str, sender: str, hello: str, check: str) -> list[Reply]:
    """Greets, asks for the screening, consents, says Thailand and answers question 1 with no:
    the replies that ask question 2."""
    say(url, sender, hello)
    say(url, sender, check)
    say(url, sender, "/affirm")
    say(url, sender, '/choose_country{"country":"th"}')
    second = say(url, sender, "/deny")
    assert texts(second).startswith("2/9")
    return second


def recorded_answers(url: str, sender: str) -> dict[str, str | None]:
    """The screening answers so far, as the hand-off asked for now carries them."""
    (handoff,) = handoffs(say(url, sender, "/request_human"))
    answers: dict[str, str | None] = handoff["answers"]
    return answers


def anything_else(language: str) -> str:
    """The text of utter_anything_else ("OK, is there anything else?") in one language."""
    responses = yaml.safe_load((ROOT / "domain" / "responses.yml").read_text(encoding="utf-8"))
    (variant,) = [
        v
        for v in responses["responses"]["utter_anything_else"]
        if {"type": "slot", "name": "language", "value": language} in v.get("condition", [])
    ]
    return str(variant["text"])


HELLO_AND_CHECK = {
    "th": ("สวัสดีครับ", "อยากเช็คว่าผมถูกค้ามนุษย์หรือเปล่า"),
    "vi": ("xin chào", "tôi muốn kiểm tra xem tôi có bị buôn bán người không"),
    "km": ("សួស្តី", "ខ្ញុំចង់ដឹងថាខ្ញុំជាជនរងគ្រោះនៃការជួញដូរមនុស្សឬអត់"),
}


@pytest.mark.parametrize(
    ("language", "cannot"),
    [("th", "ฉันออกไปไม่ได้"), ("vi", "Tôi không đi được"), ("km", "ខ្ញុំចេញមិនបាន")],
)
def test_question_2_is_asked_again_until_the_answer_says_which(
    rasa_url: str, language: str, cannot: str
) -> None:
    me = f"{language}-q2"
    second = to_question_2(rasa_url, me, *HELLO_AND_CHECK[language])
    assert [b["title"] for b in second[-1]["buttons"]][1] == cannot
    again = say(rasa_url, me, "/affirm")  # "yes" to "could you leave?": which way?
    assert len(again) == 2 and again[-1]["text"].startswith("2/9"), "why, then the question"
    assert texts(say(rasa_url, me, "/cannot_leave")).startswith("3/9")


# Typed answers to question 2 (none of them a training example): "I can leave", "I can't leave",
# and "yes, but they don't let me go out".
TYPED_Q2 = {
    "th": ("ออกได้ ไม่มีใครห้าม", "ผมออกไปไหนไม่ได้เลยครับ", "ใช่ แต่เขาไม่ให้ออกไปไหน"),
    "vi": (
        "tôi có thể nghỉ bất cứ lúc nào",
        "em không nghỉ được",
        "có, nhưng họ không cho tôi ra ngoài",
    ),
    "km": ("ខ្ញុំអាចឈប់ធ្វើការបាន", "ខ្ញុំមិនអាចចេញបាន", "បាទ ប៉ុន្តែគេមិនឲ្យខ្ញុំចេញក្រៅទេ"),
}


@pytest.mark.parametrize("language", ["th", "vi", "km"])
def test_question_2_typed_counts_by_what_it_says(rasa_url: str, language: str) -> None:
    can, cannot, yes_but = TYPED_Q2[language]
    for typed, recorded in ((can, "yes"), (cannot, "no")):
        me = f"{language}-q2-typed-{recorded}"
        to_question_2(rasa_url, me, *HELLO_AND_CHECK[language])
        replies = say(rasa_url, me, typed)
        assert replies[-1]["text"].startswith("3/9"), (typed, texts(replies))
        assert recorded_answers(rasa_url, me)["q2_free_to_leave"] == recorded, typed

    me = f"{language}-q2-typed-yes-but"
    to_question_2(rasa_url, me, *HELLO_AND_CHECK[language])
    replies = say(rasa_url, me, yes_but)
    assert replies[-1]["text"].startswith(("2/9", "3/9")), (yes_but, texts(replies))
    assert recorded_answers(rasa_url, me)["q2_free_to_leave"] != "yes", yes_but


@pytest.mark.parametrize(
    ("language", "can", "job_offer"),
    [
        ("th", "ฉันลาออกได้ถ้าอยาก", "ออกจากงานได้ตลอด แต่อยากรู้ว่างานที่เขาเสนอมาปลอดภัยไหม"),
        (
            "vi",
            "em đi được, không ai cấm",
            "tôi nghỉ lúc nào cũng được, nhưng lời mời làm việc này có an toàn không",
        ),
        ("km", "ខ្ញុំអាចចេញបាន", "ខ្ញុំអាចឈប់បាន តែការងារដែលគេផ្ដល់ឲ្យនេះមានសុវត្ថិភាពទេ"),
    ],
)
def test_i_can_leave_outside_the_screening_gets_a_sensible_reply(
    rasa_url: str, language: str, can: str, job_offer: str
) -> None:
    me = f"{language}-can-leave-outside"
    say(rasa_url, me, HELLO_AND_CHECK[language][0])
    say(rasa_url, me, '/choose_country{"country":"th"}')
    assert texts(say(rasa_url, me, can)) == anything_else(language)
    answer = rights.find("job_offer_check", "th").text[language].split("\n\n")[0]
    assert answer in texts(say(rasa_url, me, job_offer))


def test_choose_language_by_name_and_by_command(rasa_url: str) -> None:
    me = "switcher"
    say(rasa_url, me, "สวัสดีครับ")
    switched = say(rasa_url, me, "ขอเป็นภาษาเขมรได้ไหม")
    assert detect(texts(switched)) == "km"
    menu = say(rasa_url, me, "/lang")
    assert [b["payload"] for b in menu[-1]["buttons"]] == [
        '/choose_language{"language":"th"}',
        '/choose_language{"language":"vi"}',
        '/choose_language{"language":"km"}',
    ]
    assert detect(texts(say(rasa_url, me, '/choose_language{"language":"vi"}'))) == "vi"


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "🙏🙏🙏",
        "ช่วย" * 1250,
        "hello, can you help",
        "boss เก็บ passport ខ្ញុំ",
        "%%%$$$",
        "ສະບາຍດີ",
    ],
    ids=["empty", "blank", "emoji", "5000 chars", "english", "mixed scripts", "symbols", "lao"],
)
def test_bad_input_gets_a_reply_in_the_conversations_language(rasa_url: str, message: str) -> None:
    me = f"bad-input-{abs(hash(message))}"
    say(rasa_url, me, "xin chào")
    replies = say(rasa_url, me, message)
    assert replies, "every message gets a reply"
    if detect(message) is None:
        assert detect(texts(replies)) == "vi"


def test_unknown_language_first_gets_the_language_question(rasa_url: str) -> None:
    replies = say(rasa_url, "stranger", "hello")
    payloads = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert '/choose_language{"language":"km"}' in payloads


def test_a_long_conversation_keeps_a_bounded_tracker(
    rasa_url: str, redis_client: redis.Redis
) -> None:
    me = "long-talker"
    for n in range(80):
        assert say(rasa_url, me, "ขอบคุณครับ" if n % 2 else "สวัสดีครับ")
    stored = Sealer(MESSAGE_KEY.encode()).open(redis_client.get(f"rasa:tracker:{me}") or "")
    assert len(stored["events"]) <= 60


def test_the_terminal_shell_talks_to_rasa(rasa_url: str) -> None:
    """`make shell`: typed lines go to Rasa; replies, numbered buttons and payloads come back."""
    python = ROOT / ".venv" / "bin" / "python"
    result = subprocess.run(
        [python, "-m", "bot.shell", "--url", rasa_url],
        input="xin chào\n3\n/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert "1. " in result.stdout  # the menu's buttons, numbered
    assert '"handoff"' in result.stdout  # button 3 is "talk to a person"


def test_the_terminal_shell_says_when_rasa_is_not_running() -> None:
    python = ROOT / ".venv" / "bin" / "python"
    result = subprocess.run(
        [python, "-m", "bot.shell", "--url", f"http://127.0.0.1:{free_port()}"],
        input="hello\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode != 0
    assert "make run" in result.stderr


def test_yes_to_danger_now_ends_the_screening_with_an_urgent_handoff(rasa_url: str) -> None:
    me = "danger-at-q1"
    say(rasa_url, me, "tôi muốn kiểm tra tình trạng của mình")
    say(rasa_url, me, "/affirm")
    say(rasa_url, me, '/choose_country{"country":"th"}')
    replies = say(rasa_url, me, "/affirm")  # "Are you in danger right now?" - yes
    assert "☎ 191" in texts(replies)
    (handoff,) = handoffs(replies)
    assert handoff["risk"] == "immediate" and handoff["reason"] == "screening"
    assert handoff["answers"] == {"q1_danger": "yes"}
