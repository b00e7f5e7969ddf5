"""Never silent on danger (CONTRACT.md, "Hand-off"), through the whole stack: a person who waits
for an operator, or talks with one, says they are in danger; a waiting person is reminded, and
goes back to the assistant. Over the web chat and the stand-in Telegram, in Thai, Vietnamese and
Khmer; the operators' side is read from the console's own pages and live events."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from bot.reminders import remind_due
from bot.store import QUEUE, Store, conversation_key
from hotline.content import gateway_texts
from hotline.language import detect
from tests.gateway.conftest import ID_SECRET, MESSAGE_KEY, Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.gateway.test_pipeline import Page, texts
from tests.gateway.test_telegram import Chat, keyboard
from tests.waiting import until

pytestmark = pytest.mark.servers

ASK = {"th": "ขอคุยกับเจ้าหน้าที่", "vi": "cho gặp nhân viên", "km": "ខ្ញុំចង់និយាយជាមួយមនុស្ស"}
DANGER = {
    "th": "ช่วยด้วย เขาตีผมแล้วขังผมไว้ในห้อง",
    "vi": "cứu tôi, họ đang đánh tôi, tôi bị nhốt",
    "km": "ជួយខ្ញុំផង គេវាយខ្ញុំ ហើយចាក់សោទុកខ្ញុំក្នុងបន្ទប់",
}
CALM = {"th": "ตอนนี้โอเคแล้วครับ ขอบคุณ", "vi": "giờ tôi ổn rồi, cảm ơn", "km": "ឥឡូវខ្ញុំមិនអីទេ អរគុណ"}
# The emergency numbers of all three countries: the country is not known before a screening.
EVERY_EMERGENCY = ("☎ 191", "☎ 113", "☎ 117")


class Person:
    """Someone on the web chat or on Telegram: says things, reads the replies to them."""

    def __init__(self, stack: Stack, channel: str) -> None:
        self.channel = channel
        self.page = Page(stack) if channel == "web" else None
        self.chat = Chat(stack) if channel == "telegram" else None
        user = self.page.client if self.page else str(self.chat.id if self.chat else "")
        self.conv = stack.conv(user, channel)

    def say(self, text: str, replies: int = 1) -> list[dict[str, Any]]:
        """The replies to a message: on Telegram at least `replies` messages; on the web chat
        the one event that carries them all."""
        if self.page:
            return self.page.say(text)
        assert self.chat
        return self.chat.say(text, replies)

    def press(self, payload: str, replies: int = 1) -> list[dict[str, Any]]:
        if self.page:
            return self.page.say(payload)
        assert self.chat
        return self.chat.press(payload, replies)

    def say_unanswered(self, stack: Stack, text: str) -> None:
        """Sends what gets no reply (kept for the operator) and waits until it is handled."""
        done = int(stack.redis.hget(conversation_key(self.conv), "in_done") or 0)
        replies = stack.redis.hget(conversation_key(self.conv), "out_seq")
        if self.page:
            body = {"client": self.page.client, "text": text}
            assert httpx.post(f"{stack.url}/chat/messages", json=body).status_code == 202
        else:
            assert self.chat
            stack.telegram.queue_update(stack.telegram.text_update(self.chat.id, text))
        until(
            lambda: int(stack.redis.hget(conversation_key(self.conv), "in_done") or 0) > done,
            what="the message to be handled",
        )
        assert stack.handled(self.conv)["out_seq"] == replies, "no reply to it"


def newest_event(stack: Stack) -> str:
    found = stack.redis.xrevrange("hl:console", count=1)
    return str(found[0][0]) if found else "0-0"


def event_for(client: httpx.Client, since: str, conv: str, kind: str) -> dict[str, Any]:
    """The first live console event of this kind about the conversation after `since`."""
    deadline = time.monotonic() + 30
    with client.stream("GET", f"/console/events?since={since}", timeout=30) as response:
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"no {kind} event for {conv} in time"
            if line.startswith("data: "):
                event: dict[str, Any] = json.loads(line.removeprefix("data: "))
                if event["conv"] == conv and event["kind"] == kind:
                    return event
    raise AssertionError(f"no {kind} event for {conv}")


async def transcript_of(stack: Stack, conv: str) -> list[dict[str, Any]]:
    client = aioredis.Redis(port=stack.server.port, decode_responses=True)
    found = await Store(client, ID_SECRET, MESSAGE_KEY, ttl=3600).transcript(conv)
    await client.aclose()
    return found


def asked_for_a_person(stack: Stack, channel: str, language: str) -> Person:
    person = Person(stack, channel)
    person.say(ASK[language], replies=2)
    until(
        lambda: stack.redis.hget(conversation_key(person.conv), "state") == "waiting",
        what="the hand-off to be queued",
    )
    return person


@pytest.mark.parametrize("channel", ["web", "telegram"])
@pytest.mark.parametrize("language", ["th", "vi", "km"])
def test_danger_while_waiting_gets_numbers_at_once_and_goes_to_the_top(
    stack: Stack, channel: str, language: str
) -> None:
    operator = login(stack, make_user(stack))
    operator.get("/console")  # online
    person = asked_for_a_person(stack, channel, language)
    key = conversation_key(person.conv)
    assert stack.redis.hget(key, "risk") != "immediate"
    since = newest_event(stack)

    reply = texts(person.say(DANGER[language]))
    assert gateway_texts()["danger_marked"][language] in reply, "in the person's language"
    assert all(number in reply for number in EVERY_EMERGENCY), reply
    assert stack.redis.hget(key, "risk") == "immediate"
    assert stack.redis.hget(key, "danger_in") == "waiting"
    score = stack.redis.zscore(QUEUE, person.conv)
    assert score is not None and score < 10**10, "at the top, among the immediate ones"
    alert = event_for(operator, since, person.conv, "danger")
    assert alert["alert"] and alert["risk"] == "immediate"
    row = operator.get("/console/queue").text
    assert "Danger said while waiting" in row

    person.say_unanswered(stack, CALM[language])
    assert stack.redis.hget(key, "risk") == "immediate", "a calm message does not lower it"
    page = operator.get(f"/console/c/{person.conv}").text
    assert "danger-banner" in page
    assert "Says they are in danger now" in page, "what the assistant understood, in English"


def test_danger_with_an_operator_alerts_the_holder_and_the_supervisors(stack: Stack) -> None:
    holder, other = login(stack, make_user(stack)), login(stack, make_user(stack))
    supervisor = login(stack, make_user(stack, "supervisor"))
    for client in (holder, other, supervisor):
        client.get("/console")
    person = asked_for_a_person(stack, "telegram", "km")
    queue = holder.get("/console").text
    assert holder.post(f"/console/c/{person.conv}/claim", data={"csrf": _csrf(queue)}).is_redirect
    since = newest_event(stack)

    reply = texts(person.say(DANGER["km"]))
    assert all(number in reply for number in EVERY_EMERGENCY) and detect(reply) == "km"
    key = conversation_key(person.conv)
    assert stack.redis.hget(key, "state") == "operator", "the operator keeps it"
    assert stack.redis.hget(key, "danger_in") == "operator"
    assert event_for(holder, since, person.conv, "danger")["alert"]
    assert event_for(supervisor, since, person.conv, "danger")["alert"]
    assert not event_for(other, since, person.conv, "danger")["alert"]

    # Only an operator lowers the risk: another operator may not, the holder may.
    page = holder.get(f"/console/c/{person.conv}").text
    assert 'id="set-risk"' in page and "Danger said while with an operator" in page
    refused = other.post(
        f"/console/c/{person.conv}/risk", data={"csrf": _csrf(page), "risk": "low"}
    )
    assert refused.status_code in (403, 409)
    lowered = holder.post(
        f"/console/c/{person.conv}/risk", data={"csrf": _csrf(page), "risk": "high"}
    )
    assert lowered.is_redirect
    assert stack.redis.hget(key, "risk") == "high" and not stack.redis.hget(key, "danger_open")
    audit = supervisor.get(f"/console/audit?conv={person.conv}").text
    assert "set the risk" in audit


def test_a_waiting_person_goes_back_to_the_assistant_by_typing(stack: Stack) -> None:
    person = asked_for_a_person(stack, "web", "th")
    replies = person.say("ยกเลิก")
    assert gateway_texts()["withdrawn"]["th"] in texts(replies)
    assert any(reply.get("buttons") for reply in replies), "the menu comes back"
    key = conversation_key(person.conv)
    assert stack.redis.hget(key, "state") == "bot"
    assert stack.redis.zscore(QUEUE, person.conv) is None
    operator = login(stack, make_user(stack))
    page = operator.get(f"/console/c/{person.conv}").text
    assert "Withdrawn by the person after 0 min" in page
    assert person.say("ยกเลิกสัญญาได้ไหม"), "the assistant answers again"
    assert stack.redis.hget(key, "state") == "bot"


def test_danger_stays_when_the_person_goes_back_and_asks_again(stack: Stack) -> None:
    person = asked_for_a_person(stack, "web", "vi")
    person.say(DANGER["vi"])
    person.say("quay lại")
    key = conversation_key(person.conv)
    assert stack.redis.hget(key, "state") == "bot"
    person.say(ASK["vi"])
    assert stack.redis.hget(key, "state") == "waiting"
    assert stack.redis.hget(key, "risk") == "immediate", "only an operator lowers it"


def test_a_waiting_person_goes_back_with_the_button_not_once_an_operator_has_it(
    stack: Stack,
) -> None:
    person = asked_for_a_person(stack, "telegram", "vi")
    waiting = stack.telegram.sent(person.chat.id if person.chat else 0)
    back = [b["text"] for b in keyboard(waiting) if b["callback_data"] == "/withdraw"]
    assert back == [gateway_texts()["back_to_assistant"]["vi"]]
    replies = person.press("/withdraw", replies=2)
    assert gateway_texts()["withdrawn"]["vi"] in texts(replies)
    assert stack.redis.hget(conversation_key(person.conv), "state") == "bot"

    person.say(ASK["vi"], replies=2)
    operator = login(stack, make_user(stack))
    queue = operator.get("/console").text
    operator.post(f"/console/c/{person.conv}/claim", data={"csrf": _csrf(queue)})
    kept = texts(person.press("/withdraw"))
    assert kept == gateway_texts()["operator_closes"]["vi"]
    assert stack.redis.hget(conversation_key(person.conv), "state") == "operator"


def test_a_person_nobody_takes_is_reminded_once_then_every_half_hour(stack: Stack) -> None:
    person = asked_for_a_person(stack, "web", "km")
    key = conversation_key(person.conv)
    assert person.page
    # The clock moves on: the hand-off was queued eleven minutes ago.
    stack.redis.hincrbyfloat(key, "waiting_since", -11 * 60)
    reminder = person.page.read(1)
    assert texts(reminder).startswith(gateway_texts()["still_waiting"]["km"])
    assert all(number in texts(reminder) for number in EVERY_EMERGENCY)
    assert reminder[0]["buttons"][0]["payload"] == "/withdraw"

    async def several_workers_at_once() -> list[int]:
        client = aioredis.Redis(port=stack.server.port, decode_responses=True)
        store = Store(client, ID_SECRET, MESSAGE_KEY, ttl=3600)
        sent = await asyncio.gather(*(remind_due(store, 600) for _ in range(3)))
        await client.aclose()
        return list(sent)

    assert sum(asyncio.run(several_workers_at_once())) == 0, "not again before half an hour"
    stack.redis.hincrbyfloat(key, "reminded_at", -31 * 60)
    asyncio.run(several_workers_at_once())  # racing the worker's own job
    assert texts(person.page.read(1)).startswith(gateway_texts()["still_waiting"]["km"])
    transcript = asyncio.run(transcript_of(stack, person.conv))
    assert sum(1 for line in transcript if line.get("reminder")) == 2, "each went once"


def test_danger_after_a_worker_restart_is_answered(stack: Stack) -> None:
    person = asked_for_a_person(stack, "web", "vi")
    victim = next(w for w in reversed(stack.workers) if w.poll() is None)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    assert person.page
    body = {"client": person.page.client, "text": DANGER["vi"]}
    assert httpx.post(f"{stack.url}/chat/messages", json=body).status_code == 202
    stack.worker("w1")  # the same name: it takes up what is waiting
    reply = texts(person.page.read(1))
    assert all(number in reply for number in EVERY_EMERGENCY)
    assert stack.redis.hget(conversation_key(person.conv), "risk") == "immediate"
