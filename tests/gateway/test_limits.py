"""Limits on what one address or chat may send: counted in Redis (shared by every web process),
429 with Retry-After when passed, the page sending again by itself; texts cut before they are
stored; new messages refused for a while when too much waits to be handled."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bot.chat_limits import URGENT, ChatLimiter
from bot.limits import Limit, Limiter, LimitError, from_env
from bot.safety import QuickExit
from bot.store import INBOUND, MAX_TEXT, OUTBOUND, Backlogged, Inbound, Store
from hotline.content import gateway_texts
from hotline.hotlines import emergency
from tests.gateway.conftest import Stack


@pytest.mark.asyncio
async def test_a_window_allows_its_count_then_says_how_long_to_wait(store: Store) -> None:
    limiter = Limiter(store.redis, b"secret")
    limit = Limit("test", 3, 60)
    assert [await limiter.wait(limit, "203.0.113.9") for _ in range(3)] == [0, 0, 0]
    waited = await limiter.wait(limit, "203.0.113.9")
    assert 59 < waited <= 60
    assert await limiter.wait(limit, "198.51.100.7") == 0, "another sender has its own count"
    keys = await store.redis.keys("hl:limit:*")
    assert keys and not any("203.0.113.9" in key for key in keys), "no address in clear"


def test_limits_come_from_the_environment_or_their_defaults() -> None:
    limits = from_env({"LIMIT_WEB_CHAT": "5/30"})
    assert limits["web-chat"] == Limit("web-chat", 5, 30)
    assert limits["web-address"] == Limit("web-address", 12, 10)
    with pytest.raises(LimitError, match="LIMIT_WEB_PAGES must be count/seconds"):
        from_env({"LIMIT_WEB_PAGES": "many"})


@pytest.mark.asyncio
async def test_a_text_is_cut_before_it_is_stored(store: Store) -> None:
    await store.accept(Inbound(channel="web", user="u" * 20, event_id="e1", text="ก" * 20_000))
    [(_, fields)] = await store.redis.xrange(INBOUND)
    assert len(str(store.sealer.open(fields["text"]))) == MAX_TEXT and fields["cut"] == "1"


@pytest.mark.asyncio
async def test_a_full_backlog_refuses_new_messages_without_marking_them_seen(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.messages.INBOUND_BACKLOG", 2)
    for n in range(2):
        await store.accept(Inbound(channel="web", user="u" * 20, event_id=f"e{n}", text="hi"))
    late = Inbound(channel="web", user="u" * 20, event_id="late", text="hi")
    with pytest.raises(Backlogged):
        await store.accept(late)
    await store.redis.xtrim(INBOUND, maxlen=0)
    assert await store.accept(late), "the same message sent again later is taken"


@pytest.mark.asyncio
async def test_only_a_registered_ngos_code_is_kept(store: Store) -> None:
    await store.redis.sadd("hl:ngos", "mekong-aid")
    for user, ref in (("a" * 20, "mekong-aid"), ("b" * 20, "made-up-code")):
        conv = await store.accept(
            Inbound(channel="web", user=user, event_id=user, text="hi", referral=ref)
        )
        assert conv
        kept = (await store.conversation(conv)).get("referral", "")
        assert kept == (ref if ref == "mekong-aid" else "")


@pytest.mark.servers
def test_a_chat_that_sends_too_much_is_told_to_wait_and_others_are_not(stack: Stack) -> None:
    client, other = uuid.uuid4().hex, uuid.uuid4().hex
    allowed = int(stack.env.get("LIMIT_WEB_CHAT", "40/60").split("/")[0])
    statuses = []
    for n in range(allowed + 1):
        body = {"client": client, "id": f"m{n}", "text": "ok"}
        sent = httpx.post(f"{stack.url}/chat/messages", json=body, timeout=10)
        statuses.append(sent.status_code)
    assert statuses[:allowed] == [202] * allowed
    assert sent.status_code == 429 and int(sent.headers["Retry-After"]) >= 1
    body = {"client": other, "text": "xin chào"}
    assert httpx.post(f"{stack.url}/chat/messages", json=body).status_code == 202


@pytest.mark.asyncio
async def test_a_flooding_chat_is_read_up_to_its_limit_and_told_once(store: Store) -> None:
    chats = ChatLimiter(store, Limit("chat", 3, 60), QuickExit())
    sent = [
        Inbound("telegram", "777", f"u{n}", "สวัสดีครับ ขอถามหน่อย", address={"chat": 777})
        for n in range(6)
    ]
    accepted = [await chats.accept(message) for message in sent]
    assert accepted == [True, True, True, False, False, False]
    assert await store.redis.xlen(INBOUND) == 3, "the rest never stored"
    assert await chats.accept(sent[0]), "a channel sending an event again is not counted"
    assert await store.redis.xlen(INBOUND) == 3, "nor stored twice"
    [(_, told)] = await store.redis.xrange(OUTBOUND)
    [reply] = store.sealer.open(told["replies"])
    assert reply["text"].startswith(gateway_texts()["slow_down"]["th"]), "in the chat's language"
    assert emergency(None, "th") in reply["text"], "with the emergency numbers"
    other = Inbound("telegram", "888", "o1", "สวัสดี", address={"chat": 888})
    assert await chats.accept(other), "another chat has its own count"


@pytest.mark.asyncio
async def test_danger_and_leaving_are_read_past_the_chat_limit(store: Store) -> None:
    chats = ChatLimiter(store, Limit("chat", 1, 60), QuickExit())

    def said(n: int, text: str) -> Inbound:
        return Inbound("telegram", "555", f"e{n}", text, address={"chat": 555})

    assert await chats.accept(said(0, "hello"))
    assert not await chats.accept(said(1, "hello again")), "over the limit"
    for n, text in enumerate(["ช่วยด้วย โดนขังอยู่", "/exit", "/forget"], start=2):
        assert await chats.accept(said(n, text)), text
    floods = [await chats.accept(said(n, "cứu tôi")) for n in range(10, 30)]
    assert floods.count(True) == URGENT - 3, "danger words do not open the gate for a flood"
