"""The whole way of a message through real processes: web chat -> inbound stream -> router -> Rasa
-> outbound stream -> senders -> the page's event stream. Nothing of the project is mocked."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from typing import Any

import httpx
import pytest

from bot.store import QUEUE, conversation_key, web_key
from hotline.language import detect
from tests.gateway.conftest import Stack
from tests.waiting import until

pytestmark = pytest.mark.servers

Reply = dict[str, Any]


def client_id() -> str:
    return uuid.uuid4().hex


def post(stack: Stack, client: str, text: str, message_id: str | None = None) -> httpx.Response:
    body = {"client": client, "id": message_id or uuid.uuid4().hex, "text": text, "ref": "ngo-1"}
    return httpx.post(f"{stack.url}/chat/messages", json=body, timeout=10)


class Page:
    """A web chat page: sends messages and reads the replies from the event stream, as chat.js."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.client = client_id()
        self.since = "0-0"

    def say(self, text: str, expect: int = 1) -> list[Reply]:
        """Sends a message and returns the replies to it (one event per message answered)."""
        assert post(self.stack, self.client, text).status_code == 202
        return self.read(expect)

    def read(self, events: int, seconds: float = 60) -> list[Reply]:
        replies: list[Reply] = []
        ticket = httpx.post(f"{self.stack.url}/chat/tickets", json={"client": self.client})
        params = {"ticket": ticket.json()["ticket"], "since": self.since}
        with httpx.stream(
            "GET", f"{self.stack.url}/chat/events", params=params, timeout=seconds
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event_id = None
            for line in response.iter_lines():
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    replies.extend(json.loads(line[6:])["replies"])
                    assert event_id is not None
                    self.since = event_id
                    events -= 1
                    if events == 0:
                        return replies
        raise AssertionError("the event stream ended early")


def texts(replies: list[Reply]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def test_a_first_message_in_no_known_language_gets_the_picker_then_the_notice(
    stack: Stack,
) -> None:
    """English: the language picker once (greeting and menu both ask for it); the first-contact
    notice comes with the first reply in the language picked, not in whatever the picker reads
    as, and not in three languages at once (LINE takes five messages per reply)."""
    page = Page(stack)
    greeting = page.say("hello, can you help")
    assert len(greeting) == 1 and "/choose_language" in str(greeting[0].get("buttons"))
    picked = page.say('/choose_language{"language":"vi"}')
    notice = [r for r in picked if "/forget" in str(r.get("text"))]
    assert len(notice) == 1 and detect(str(notice[0]["text"])) == "vi"
    assert all(detect(str(r["text"])) == "vi" for r in picked)
    assert not any("/forget" in str(r.get("text")) for r in page.say("xin chào"))


def test_thai_rights_screening_and_handoff_over_the_web_chat(stack: Stack) -> None:
    page = Page(stack)
    greeting = page.say("สวัสดีครับ")
    assert detect(texts(greeting)) == "th" and any(r.get("buttons") for r in greeting)
    notice = texts(greeting[-3:])
    assert "/forget" in notice and "✕" in greeting[-1]["text"], "the notice comes last"
    assert all(len(str(r["text"])) <= 300 for r in greeting), "short enough for a phone"
    asked = page.say("นายจ้างเก็บพาสปอร์ตผมไว้ไม่ยอมคืน ทำยังไงได้บ้าง")
    assert asked[-1]["buttons"][0]["payload"] == '/choose_country{"country":"th"}'
    assert "☎ 1300" in texts(page.say('/choose_country{"country":"th"}'))
    assert "9 " in texts(page.say("อยากเช็คว่าผมถูกค้ามนุษย์หรือเปล่า"))
    assert texts(page.say("/affirm")).startswith("1/9")
    for answer in ["/deny", "/cannot_leave", "/affirm", "/affirm", "/unsure", "/skip"] + [
        "/deny"
    ] * 3:
        last = page.say(answer)
    assert "•" in texts(last)
    accepted = page.say("/affirm")
    assert all("custom" not in reply for reply in accepted), "the payload is not for the person"
    conv = stack.conv(page.client)
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"
    assert stack.redis.hget(conversation_key(conv), "risk") == "high"
    assert stack.redis.hget(conversation_key(conv), "referral") == "ngo-1"
    assert conv in stack.redis.zrange(QUEUE, 0, -1)

    # Waiting for a person: the bot says nothing more, and the message is kept for the operator.
    assert post(stack, page.client, "ยังอยู่ไหมครับ").status_code == 202
    handled = stack.handled(conv)
    assert handled["in_done"] == "16", "the message was handled"
    assert stack.redis.xlen(web_key(conv)) == 15


def test_vietnamese_danger_gets_numbers_and_an_urgent_handoff(stack: Stack) -> None:
    page = Page(stack)
    replies = page.say("cuu toi voi, ho nhot toi trong phong")
    assert "☎ 113" in texts(replies) and "☎ 191" in texts(replies)
    conv = stack.conv(page.client)
    assert stack.redis.hget(conversation_key(conv), "risk") == "immediate"
    assert stack.redis.zscore(QUEUE, conv) is not None


def test_khmer_rights_answer_for_the_country_named(stack: Stack) -> None:
    page = Page(stack)
    page.say("សួស្តី")
    asked = page.say("ថៅកែមិនបើកប្រាក់ខែខ្ញុំបីខែហើយ")
    assert asked[-1]["buttons"]
    answer = texts(page.say('/choose_country{"country":"kh"}'))
    assert detect(answer) == "km" and "☎" in answer


@pytest.mark.parametrize(("command", "means"), [("/forget", "/forget_me"), ("/help", "/show_menu")])
def test_commands_the_bot_mentions_work_in_the_web_chat(
    stack: Stack, command: str, means: str
) -> None:
    typed, pressed = Page(stack), Page(stack)
    for page in (typed, pressed):
        page.say("សួស្តី")
    assert typed.say(command) == pressed.say(means)


def test_forget_me_erases_the_conversation(stack: Stack) -> None:
    page = Page(stack)
    page.say("นายจ้างยึดพาสปอร์ตผม ref ngo")
    conv = stack.conv(page.client)
    assert stack.redis.exists(f"hl:log:{conv}", f"rasa:tracker:{conv}", f"hl:addr:{conv}") == 3
    assert page.say("/forget"), "the person is told"
    until(lambda: not stack.redis.exists(f"hl:log:{conv}"), 10, "the transcript to be erased")
    assert not stack.redis.exists(f"rasa:tracker:{conv}", f"hl:addr:{conv}")
    assert not stack.redis.exists(f"rasa:replies:{conv}")
    assert "referral" not in stack.redis.hgetall(conversation_key(conv))
    assert page.say("สวัสดีครับ"), "and can start again"


def test_a_long_message_is_cut_with_a_note_not_dropped(stack: Stack) -> None:
    page = Page(stack)
    page.say("xin chào")
    replies = page.say("toi bi giu ho chieu " * 400)
    assert "quá dài" in texts(replies)
    assert len(replies) >= 2


def test_a_resent_message_is_answered_once(stack: Stack) -> None:
    page = Page(stack)
    message_id = "same-id"
    for _ in range(3):
        assert post(stack, page.client, "สวัสดีครับ", message_id).status_code == 202
    page.read(1)
    conv = stack.conv(page.client)
    assert stack.handled(conv)["in_seq"] == "1", "the copies were dropped when they came"
    assert stack.redis.xlen(web_key(conv)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"client": "short", "text": "hi"}', 422),
        (b'{"client": "0123456789abcdef0123", "text": ""}', 422),
        (b'{"client": "0123456789abcdef0123", "text": "hi", "ref": "<script>"}', 422),
        (b"{not json", 422),
        (b'{"client": "0123456789abcdef0123", "text": "' + b"x" * 1_000_000 + b'"}', 413),
    ],
    ids=["bad client id", "empty text", "bad referral", "malformed json", "1 MB body"],
)
def test_hostile_input_is_refused_and_nothing_is_stored(
    stack: Stack, body: bytes, status: int
) -> None:
    stack.refuses(f"{stack.url}/chat/messages", body, {}, status)


def test_a_killed_worker_loses_nothing_and_repeats_nothing(stack: Stack) -> None:
    """500 messages from 50 conversations; kill -9 the worker in the middle, start another."""
    clients = [client_id() for _ in range(50)]
    asyncio.run(send_all(stack, clients, 10))
    (victim,) = stack.running_workers()
    until(lambda: answered(stack, clients) > 0, what="the worker to be at work")
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    assert answered(stack, clients) < 500, "the kill came after the work: it proves nothing"
    stack.worker("w1")  # the same name: it takes up what the killed one had read
    expect_every_reply(stack, clients, 10, seconds=240)


def test_a_restarted_redis_loses_nothing(stack: Stack) -> None:
    clients = [client_id() for _ in range(20)]
    asyncio.run(send_all(stack, clients, 5))
    stack.server.restart()  # while the worker is answering them
    assert answered(stack, clients) < 100, "the restart came after the work: it proves nothing"
    expect_every_reply(stack, clients, 5, seconds=240)


async def send_all(stack: Stack, clients: list[str], count: int) -> None:
    """Every client sends `count` numbered messages, in order, all clients at once."""

    async def one(client: str, http: httpx.AsyncClient) -> None:
        for n in range(1, count + 1):
            body = {"client": client, "id": f"m{n}", "text": f"ขอบคุณครับ {n}"}
            response = await http.post(f"{stack.url}/chat/messages", json=body)
            assert response.status_code == 202 and response.json() == {"queued": True}

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(one(client, http) for client in clients))


def answered(stack: Stack, clients: list[str]) -> int:
    """How many replies the clients' pages have had so far."""
    return sum(int(stack.redis.xlen(web_key(stack.conv(c)))) for c in clients)


def expect_every_reply(stack: Stack, clients: list[str], count: int, seconds: float) -> None:
    """Each message answered exactly once, in the order it was sent."""
    convs = [stack.conv(c) for c in clients]

    def waiting() -> list[str]:
        return [c for c in convs if stack.redis.xlen(web_key(c)) < count]

    until(
        lambda: not waiting(),
        seconds,
        lambda: f"replies; {len(waiting())} conversations still wait for some",
    )
    for conv in convs:
        # Every message handled and every reply delivered: nothing can be answered twice after.
        assert stack.handled(conv)["in_done"] == str(count)
        replied_to = [int(f["reply_to"]) for _, f in stack.redis.xrange(web_key(conv))]
        assert replied_to == list(range(1, count + 1)), conv


def test_every_answer_carries_the_security_headers(stack: Stack) -> None:
    for path in ("/", "/widget.js", "/static/chat.js", "/health"):
        headers = httpx.get(f"{stack.url}{path}").headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert "strict-transport-security" not in headers, "not over plain http"
