"""Telegram end to end: the real python-telegram-bot against a stand-in Bot API on 127.0.0.1, the
real gateway, worker, Rasa and action server. Long polling in the shared stack; a second web
process with PUBLIC_URL set for the webhook."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.store import QUEUE, TELEGRAM_OFFSET, conversation_key
from bot.telegram_channel import webhook_secret
from hotline.language import detect
from tests.gateway.conftest import Stack
from tests.servers import free_port, gateway
from tests.standins.telegram_api import TelegramStandIn
from tests.waiting import until

pytestmark = pytest.mark.servers

chats = itertools.count(700_000)


def wait_for(telegram: TelegramStandIn, chat_id: int, count: int, seconds: float = 60) -> list[Any]:
    """The first `count` messages sent to the chat, once they are there."""
    until(
        lambda: len(telegram.sent(chat_id)) >= count,
        seconds,
        lambda: f"{count} messages to chat {chat_id}; only {telegram.sent(chat_id)} arrived",
    )
    return telegram.sent(chat_id)[:count]


class Chat:
    """A person on Telegram: queues updates for long polling and reads what the bot sent."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.telegram = stack.telegram
        self.id = next(chats)

    @property
    def conv(self) -> str:
        """The conversation's pseudonym."""
        return self.stack.conv(str(self.id), "telegram")

    def send(self, update: dict[str, Any], replies: int = 1) -> list[dict[str, Any]]:
        """Queues an update and returns the bot's messages to it: at least `replies`, and all of
        them (the conversation's every message handled, every reply delivered)."""
        before = len(self.telegram.sent(self.id))
        self.telegram.queue_update(update)
        wait_for(self.telegram, self.id, before + replies)
        # Polling stores its position once it is done with an update (stored, spinner stopped).
        until(
            lambda: int(self.stack.redis.get(TELEGRAM_OFFSET) or 0) > update["update_id"],
            what=f"polling to be done with update {update['update_id']}",
        )
        self.stack.handled(self.conv)
        return self.telegram.sent(self.id)[before:]

    def say(self, text: str, replies: int = 1) -> list[dict[str, Any]]:
        return self.send(self.telegram.text_update(self.id, text), replies)

    def press(self, data: str, replies: int = 1) -> list[dict[str, Any]]:
        return self.send(self.telegram.button_update(self.id, data), replies)


def texts(sent: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in sent)


def keyboard(sent: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The buttons of the last message that has some (the first-contact notice has none)."""
    for message in reversed(sent):
        markup = message.get("reply_markup") or {}
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return [button for row in markup["inline_keyboard"] for button in row]
    return []


def test_commands_are_registered_in_thai_vietnamese_and_khmer(stack: Stack) -> None:
    calls = stack.telegram.called("setMyCommands")
    languages = {call.get("language_code") for call in calls}
    assert {"th", "vi", "km"} <= languages
    khmer = next(c for c in calls if c.get("language_code") == "km")
    assert [c["command"] for c in khmer["commands"]] == ["lang", "help", "forget", "exit"]
    assert detect(khmer["commands"][0]["description"]) == "km"


def test_thai_over_long_polling_rights_screening_and_handoff(stack: Stack) -> None:
    chat = Chat(stack)
    greeting = chat.say("/start ngo-7")
    assert detect(texts(greeting)) == "th" or keyboard(greeting)
    asked = chat.say("นายจ้างเก็บพาสปอร์ตผมไว้ไม่ยอมคืน ทำยังไงได้บ้าง")
    buttons = keyboard(asked)
    assert buttons[0]["callback_data"] == '/choose_country{"country":"th"}'
    assert "☎ 1300" in texts(chat.press(buttons[0]["callback_data"]))
    assert stack.telegram.called("answerCallbackQuery"), "the pressed button's spinner stops"
    assert "9 " in texts(chat.say("อยากเช็คว่าผมถูกค้ามนุษย์หรือเปล่า"))
    assert texts(chat.press("/affirm")).startswith("1/9")
    for answer in ["/deny", "/cannot_leave", "/affirm", "/affirm", "/unsure", "/skip"] + [
        "/deny"
    ] * 3:
        last = chat.press(answer)
    assert "•" in texts(last)
    chat.press("/affirm")
    conv = stack.conv(str(chat.id), "telegram")
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"
    assert stack.redis.hget(conversation_key(conv), "referral") == "ngo-7"
    assert conv in stack.redis.zrange(QUEUE, 0, -1)
    assert all("handoff" not in json.dumps(m) for m in stack.telegram.sent(chat.id))


def test_a_sticker_gets_a_kind_reply_in_the_conversations_language(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("xin chào")
    reply = chat.send(stack.telegram.sticker_update(chat.id))
    assert detect(texts(reply)) == "vi" and "cứu tôi" in texts(reply)


def test_telegram_429_is_waited_out_and_the_reply_sent_once(stack: Stack) -> None:
    chat = Chat(stack)
    stack.telegram.too_many["sendMessage"] = 1
    replies = chat.say("สวัสดีครับ")  # handled: the retry, if any, is done
    attempts = stack.telegram.attempts(chat.id)
    (refused_at,) = [at for ok, at in attempts if not ok]
    accepted = [at for ok, at in attempts if ok]
    assert min(accepted) - refused_at >= 1.0, "retry_after (1 s) was respected"
    assert len(accepted) == len(replies) == len(stack.telegram.sent(chat.id))


@pytest.fixture(scope="module")
def webhook(stack: Stack) -> Iterator[tuple[str, str]]:
    """A second web process with PUBLIC_URL set: Telegram is told to call its webhook."""
    port = free_port()
    env = {**stack.env, "BOT_PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with gateway(env, stack.logs) as url:
        yield url, webhook_secret(env["ID_SECRET"].encode())


def test_the_webhook_is_registered_with_its_secret(stack: Stack, webhook: tuple[str, str]) -> None:
    url, secret = webhook
    (registered,) = [c for c in stack.telegram.called("setWebhook") if c["url"].startswith(url)]
    assert registered["url"] == f"{url}/telegram/webhook"
    assert registered["secret_token"] == secret


def test_vietnamese_danger_through_the_webhook(stack: Stack, webhook: tuple[str, str]) -> None:
    url, secret = webhook
    chat_id = next(chats)
    update = stack.telegram.text_update(chat_id, "cuu toi voi, ho nhot toi trong phong")
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    for _ in range(2):  # Telegram retries: the same update twice is one message
        assert (
            httpx.post(f"{url}/telegram/webhook", json=update, headers=headers).status_code == 200
        )
    sent = wait_for(stack.telegram, chat_id, 2)
    assert "☎ 113" in texts(sent) or "☎ 191" in texts(sent)
    conv = stack.conv(str(chat_id), "telegram")
    stack.handled(conv)  # the webhook stored each copy or dropped it before answering
    assert stack.redis.hget(conversation_key(conv), "in_seq") == "1"
    assert stack.redis.hget(conversation_key(conv), "risk") == "immediate"


@pytest.mark.parametrize(
    ("body", "secret_ok", "status"),
    [
        (b'{"update_id": 1, "message": {}}', False, 403),
        (b"{not json", True, 400),
        (b'{"update_id": "x"}', True, 400),
        (b'{"update_id": 5, "message": {"text": "' + b"x" * 1_000_000 + b'"}}', True, 413),
    ],
    ids=["forged secret", "malformed json", "not an update", "1 MB body"],
)
def test_hostile_webhook_calls_are_refused_and_nothing_is_stored(
    stack: Stack, webhook: tuple[str, str], body: bytes, secret_ok: bool, status: int
) -> None:
    url, secret = webhook
    given = {"X-Telegram-Bot-Api-Secret-Token": secret if secret_ok else "guess"}
    stack.refuses(f"{url}/telegram/webhook", body, given, status)


def test_a_wrong_token_is_one_clear_line_and_the_web_chat_still_runs(stack: Stack) -> None:
    port = free_port()
    log = stack.logs / "bot.log"
    before = log.read_text(errors="replace") if log.exists() else ""
    env = {**stack.env, "BOT_PORT": str(port), "TELEGRAM_TOKEN": "999:wrong"}
    with gateway(env, stack.logs) as url:
        assert httpx.get(f"{url}/health").status_code == 200
    written = log.read_text(errors="replace")[len(before) :]
    assert "Telegram refused TELEGRAM_TOKEN" in written
    assert "Traceback" not in written


def test_the_safe_word_clears_the_chat_and_ends_the_handoff(stack: Stack) -> None:
    chat = Chat(stack)
    updates = [stack.telegram.text_update(chat.id, "สวัสดีค่ะ")]
    notice = chat.send(updates[-1], 2)
    assert "/exit" in texts(notice) and "ดอกมะลิ" in texts(notice), "the first reply says how"
    assert notice[-1]["reply_markup"]["keyboard"] == [[{"text": "✕"}]], "the exit button"
    updates.append(stack.telegram.text_update(chat.id, "ขอคุยกับเจ้าหน้าที่"))
    chat.send(updates[-1])
    conv = stack.conv(str(chat.id), "telegram")
    assert stack.redis.hget(conversation_key(conv), "state") == "waiting"
    bot_messages = list(stack.telegram.bot_messages[chat.id])

    left = chat.say(" ดอกมะลิ ")

    assert texts(left) == "สวัสดีค่ะ 🙂", "one neutral message stays"
    deleted = {
        i
        for call in stack.telegram.called("deleteMessages")
        if call["chat_id"] == chat.id
        for i in call["message_ids"]
    }
    person = {u["message"]["message_id"] for u in updates}
    assert person | set(bot_messages) <= deleted, "the person's and the bot's messages"
    assert stack.redis.hget(conversation_key(conv), "state") == "closed"
    notes = stack.redis.lrange(f"hl:notes:{conv}", 0, -1)
    assert len(notes) == 1, "the operators are told why"


def test_polling_comes_back_after_a_long_redis_outage(stack: Stack) -> None:
    # A minute (issue 15), six times as long as the Redis client's own retries: polling itself
    # must wait it out. The outage is the behaviour under test: restart() sleeps through it.
    stack.server.restart(down=60)
    until(stack.well, 90, "the web process to say it is well again")
    assert Chat(stack).say("สวัสดีครับ"), "polling took the message after the outage"
