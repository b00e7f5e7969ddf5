"""LINE end to end: the real line-bot-sdk against a stand-in Messaging API on 127.0.0.1, webhooks
signed as LINE signs them, the real gateway, worker, Rasa and action server."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
import pytest

from bot import counts
from bot.store import QUEUE, conversation_key, stats_key
from hotline.language import detect
from tests.gateway.conftest import Stack
from tests.standins.line_api import sign
from tests.waiting import until

pytestmark = pytest.mark.servers

users = itertools.count(1)


class LineUser:
    """A person on LINE: LINE calls the webhook for them; the stand-in shows what they got."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.id = f"U{next(users):032x}"
        self.conv = stack.conv(self.id, "line")

    def post(self, *events: dict[str, Any]) -> httpx.Response:
        body = json.dumps({"destination": "Ubot", "events": list(events)}).encode()
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body)}
        return httpx.post(f"{self.stack.url}/line/webhook", content=body, headers=headers)

    def send(self, event: dict[str, Any], replies: int = 1) -> list[dict[str, Any]]:
        """Delivers an event and returns the messages the person got for it: at least `replies`,
        and all of them (the conversation's every message handled, every reply delivered)."""
        before = len(self.stack.line.sent(self.id))
        assert self.post(event).status_code == 200
        until(
            lambda: len(self.stack.line.sent(self.id)) >= before + replies,
            60,
            f"{replies} replies to {self.id}",
        )
        self.stack.handled(self.conv)
        return [message for _, message in self.stack.line.sent(self.id)[before:]]

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.send(self.stack.line.text(self.id, text))

    def press(self, data: str) -> list[dict[str, Any]]:
        return self.send(self.stack.line.postback(self.id, data))


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


def quick_replies(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = (messages[-1].get("quickReply") or {}).get("items", [])
    return [item["action"] for item in items]


def test_khmer_follow_rights_screening_and_handoff(stack: Stack) -> None:
    person = LineUser(stack)
    greeting = person.send(stack.line.follow(person.id))
    assert greeting, "adding the account is greeted"
    asked = person.say("ref:ngo-9 ថៅកែមិនបើកប្រាក់ខែខ្ញុំបីខែហើយ")
    actions = quick_replies(asked)
    assert actions[0]["type"] == "postback"
    assert actions[0]["data"] == '/choose_country{"country":"th"}'
    answer = texts(person.press('/choose_country{"country":"th"}'))
    assert detect(answer) == "km" and "☎" in answer
    assert "9 " in texts(person.say("ខ្ញុំចង់ដឹងថាខ្ញុំជាជនរងគ្រោះនៃការជួញដូរមនុស្សឬអត់"))
    assert texts(person.press("/affirm")).startswith("1/9")
    for answer_payload in ["/deny", "/can_leave", "/affirm", "/affirm", "/deny", "/deny"] + [
        "/deny"
    ] * 3:
        last = person.press(answer_payload)
    assert "•" in texts(last)
    person.press("/affirm")
    conv = person.conv
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"
    assert stack.redis.hget(conversation_key(conv), "referral") == "ngo-9"
    assert conv in stack.redis.zrange(QUEUE, 0, -1)
    assert all(kind == "reply" for kind, _ in stack.line.sent(person.id)), "tokens were fresh"
    # Counted for the reports as ngo-9's, though adding the account came before the code.
    found = stack.redis.hgetall(stats_key(counts.day(time.time()), "ngo-9"))
    for counter in (
        "conversations|channel|line",
        "conversations|language|km",
        "screenings|risk|high",
        "screenings|country|th",
        "handoffs|risk|high",
    ):
        assert found.get(counter) == "1", counter


def test_a_stale_reply_token_falls_back_to_push(stack: Stack) -> None:
    person = LineUser(stack)
    event = stack.line.text(person.id, "សួស្តី")
    stack.line.expire(event["replyToken"])
    assert person.send(event)
    assert [kind for kind, _ in stack.line.sent(person.id)][-1] == "push"


def test_a_redelivered_event_is_answered_once(stack: Stack) -> None:
    person = LineUser(stack)
    event = stack.line.text(person.id, "สวัสดีครับ")
    replies = person.send(event)
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert person.post(redelivered).status_code == 200
    # The webhook stored the copy or dropped it before answering: whatever it did is done now.
    assert stack.handled(person.conv)["in_seq"] == "1", "the copy was dropped"
    assert len(stack.line.sent(person.id)) == len(replies)


def test_a_sticker_gets_a_kind_reply(stack: Stack) -> None:
    person = LineUser(stack)
    person.say("สวัสดีครับ")
    sticker = {
        "id": "9",
        "type": "sticker",
        "packageId": "1",
        "stickerId": "1",
        "stickerResourceType": "STATIC",
        "quoteToken": "q",
    }
    reply = person.send(stack.line.event(person.id, "message", message=sticker))
    assert detect(texts(reply)) == "th" and "ช่วยด้วย" in texts(reply)


@pytest.mark.parametrize(
    ("body", "signed", "status"),
    [
        (b'{"destination": "U", "events": [{"type": "message"}]}', False, 400),
        (b"{not json", True, 400),
        (b'{"no_events": []}', True, 400),
        (b'{"events": [], "pad": "' + b"x" * 1_000_000 + b'"}', True, 413),
    ],
    ids=["forged signature", "malformed json", "not a webhook", "1 MB body"],
)
def test_hostile_webhook_calls_are_refused_and_nothing_is_stored(
    stack: Stack, body: bytes, signed: bool, status: int
) -> None:
    signature = sign(body) if signed else sign(body, "not-the-secret")
    stack.refuses(f"{stack.url}/line/webhook", body, {"X-Line-Signature": signature}, status)
