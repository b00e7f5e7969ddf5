"""The conversation store against a real Redis: order, replays, hand-off states, encryption."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from bot.rotate_keys import rotate
from bot.store import (
    AUDIT,
    CONSOLE,
    INBOUND,
    OUTBOUND,
    QUEUE,
    ROUTERS,
    SENDERS,
    Inbound,
    NotAllowed,
    Outcome,
    Received,
    Reply,
    State,
    Store,
    Turn,
    conversation_key,
    web_key,
)
from bot.store.keys import keys_of
from bot.store.states import queue_score, transition
from tests.gateway.conftest import ID_SECRET, MESSAGE_KEY
from tests.waiting import until_async

pytestmark = pytest.mark.asyncio


async def received(store: Store, count: int = 1) -> list[tuple[str, dict[str, str]]]:
    if not await store.redis.exists(INBOUND) or not await store.redis.xinfo_groups(INBOUND):
        await store.redis.xgroup_create(INBOUND, ROUTERS, id="0", mkstream=True)
    found = await store.redis.xreadgroup(ROUTERS, "test", {INBOUND: ">"}, count=count)
    return [(entry_id, fields) for entry_id, fields in found[0][1]]


def message(text: str, event: str, user: str = "12345") -> Inbound:
    return Inbound(channel="telegram", user=user, event_id=event, text=text, address={"chat": 1})


async def test_a_replayed_event_is_stored_once(store: Store) -> None:
    first = await store.accept(message("hello", "update-1"))
    again = await store.accept(message("hello", "update-1"))
    assert first is not None and again is None
    assert await store.redis.xlen(INBOUND) == 1


async def test_messages_of_a_conversation_are_numbered_in_order(store: Store) -> None:
    for n in range(3):
        await store.accept(message(f"m{n}", f"u{n}"))
    await store.accept(message("other", "u9", user="999"))
    entries = await received(store, 10)
    mine = [f["seq"] for _, f in entries if f["conv"] == entries[0][1]["conv"]]
    assert mine == ["1", "2", "3"]
    assert entries[-1][1]["seq"] == "1"


async def test_nothing_readable_is_stored(store: Store) -> None:
    await store.accept(message("นายจ้างยึดพาสปอร์ต", "u1", user="telegram-user-777"))
    web_client = "c0ffee0123456789c0ffee0123456789"
    await store.accept(Inbound("web", web_client, f"{web_client}:m1", "สวัสดี"))
    dump = str(await everything(store))
    assert "พาสปอร์ต" not in dump and "สวัสดี" not in dump
    assert "telegram-user-777" not in dump and '"chat"' not in dump
    assert web_client not in dump, "a web chat's client id would let one read its replies"


async def test_finishing_twice_changes_nothing_twice(store: Store) -> None:
    await store.accept(message("hi", "u1"))
    [(entry_id, fields)] = await received(store)
    replies = [{"text": "hello"}]
    assert await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("hi", replies, None, "th")
    )
    assert not await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("hi", replies, None, "th")
    )
    assert await store.redis.xlen(OUTBOUND) == 1
    assert await store.redis.xlen(INBOUND) == 0, "a handled message leaves the stream"
    assert len(await store.transcript(fields["conv"])) == 2
    assert await store.redis.xpending(INBOUND, ROUTERS) == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }


async def test_a_later_message_waits_for_the_earlier_one(store: Store) -> None:
    for n in range(2):
        await store.accept(message(f"m{n}", f"u{n}"))
    (first_id, first), (_, second) = await received(store, 2)
    conv = first["conv"]
    assert await store.wait_turn(conv, 2, "in_done", seconds=0.05) is Turn.LATER
    assert await store.wait_turn(conv, 1, "in_done") is Turn.GO
    await store.finish_inbound(Received.read(first_id, first), Outcome("m0", [], None, ""))
    assert await store.wait_turn(conv, 2, "in_done") is Turn.GO
    assert await store.wait_turn(conv, 1, "in_done") is Turn.DONE


async def test_a_handoff_queues_the_conversation_by_urgency(store: Store) -> None:
    risks = ("medium", "immediate", "high")
    for user in ("a", "b", "c"):
        await store.accept(message("help", f"e-{user}", user=user))
    entries = await received(store, 3)
    for (entry_id, fields), risk in zip(entries, risks, strict=True):
        handoff = {"reason": "screening", "risk": risk}
        await store.finish_inbound(
            Received.read(entry_id, fields), Outcome("help", [{"text": "ok"}], handoff, "th")
        )
    queue = await store.redis.zrange(QUEUE, 0, -1)
    by_risk = {f["conv"]: risk for (_, f), risk in zip(entries, risks, strict=True)}
    assert [by_risk[c] for c in queue] == ["immediate", "high", "medium"]
    assert all([await store.state(c) is State.WAITING for c in queue])


async def handed_off(store: Store, risk: str = "high", user: str = "12345") -> str:
    """A conversation whose bot asked for a hand-off; returns its id."""
    await store.accept(message("help", f"e1-{user}", user=user))
    [(entry_id, fields)] = await received(store)
    handoff = {
        "reason": "screening",
        "risk": risk,
        "language": "km",
        "country": "th",
        "answers": {"q2_free_to_leave": "no", "q3_documents_kept": "yes"},
    }
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("help", [{"text": "ok"}], handoff, "km")
    )
    return fields["conv"]


async def console_events(store: Store) -> list[dict[str, str]]:
    return [fields for _, fields in await store.redis.xrange(CONSOLE)]


async def test_a_handoff_keeps_its_request_sealed_and_tells_the_console(store: Store) -> None:
    conv = await handed_off(store)
    found = await store.conversation(conv)
    assert found["reason"] == "screening" and found["risk"] == "high"
    assert found["country"] == "th", "plain, for the queue; the answers stay sealed"
    assert "q3_documents_kept" not in found["handoff"], "the answers are stored encrypted"
    assert (await store.handoff(conv))["answers"]["q3_documents_kept"] == "yes"
    assert await console_events(store) == [{"kind": "queued", "conv": conv, "risk": "high"}]


async def test_one_operator_at_a_time(store: Store) -> None:
    conv = await handed_off(store)
    assert await store.change(conv, "claim", "anna") is State.OPERATOR
    with pytest.raises(NotAllowed, match="anna has already taken"):
        await store.change(conv, "claim", "ben")
    found = await store.conversation(conv)
    assert found["operator"] == "anna" and float(found["waited"]) >= 0
    assert await store.redis.zcard(QUEUE) == 0
    assert [c for c, _ in await store.with_operators()] == [conv]


async def test_only_the_holder_or_a_supervisor_replies(store: Store) -> None:
    conv = await handed_off(store)
    await store.change(conv, "claim", "anna")
    with pytest.raises(NotAllowed, match="anna holds"):
        await store.change(conv, "reply", "ben", say="hello")
    await store.change(conv, "reply", "boss", supervisor=True, say="from the supervisor")
    await store.change(conv, "reply", "anna", say="ជំរាបសួរ")
    entries = [fields for _, fields in await store.redis.xrange(OUTBOUND)]
    assert [e["seq"] for e in entries] == ["1", "2", "3"], "after the bot's reply, in order"
    assert store.sealer.open(entries[-1]["replies"]) == [{"text": "ជំរាបសួរ"}]
    said = [line for line in await store.transcript(conv) if line["from"] == "operator"]
    assert [(line["by"], line["text"]) for line in said] == [
        ("boss", "from the supervisor"),
        ("anna", "ជំរាបសួរ"),
    ]


async def test_transfer_and_close(store: Store) -> None:
    conv = await handed_off(store)
    await store.change(conv, "claim", "anna")
    await store.change(conv, "transfer", "anna", to="ben")
    with pytest.raises(NotAllowed):
        await store.change(conv, "close", "anna", say="bye")
    assert await store.change(conv, "close", "ben", say="bye") is State.CLOSED
    assert await store.with_operators() == []
    kinds = [e["kind"] for e in await console_events(store)]
    assert kinds == ["queued", "claim", "transfer", "close"]
    with pytest.raises(NotAllowed):
        await store.change(conv, "reply", "ben", say="too late")
    assert transition(State.CLOSED, "handoff") is State.WAITING
    with pytest.raises(NotAllowed):
        transition(State.BOT, "close")


async def test_messages_while_waiting_reach_the_console(store: Store) -> None:
    conv = await handed_off(store)
    await store.accept(message("are you there?", "e2"))
    [(entry_id, fields)] = await received(store)
    await store.finish_inbound(
        Received.read(entry_id, fields),
        Outcome("are you there?", [], None, "km", for_operator=True),
    )
    assert (await console_events(store))[-1] == {"kind": "message", "conv": conv}
    assert (await store.transcript(conv))[-1]["text"] == "are you there?"


async def test_notes_presence_and_audit(store: Store) -> None:
    conv = await handed_off(store)
    await store.add_note(conv, "anna", "speaks some Thai too")
    assert [n["text"] for n in await store.notes(conv)] == ["speaks some Thai too"]
    assert await store.operators_online() == 0
    await store.operator_seen("anna")
    assert await store.operators_online() == 1
    await store.audit("anna", "viewed", conv)
    [(_, entry)] = await store.redis.xrange(AUDIT)
    assert entry["user"] == "anna" and entry["action"] == "viewed" and entry["conv"] == conv


async def test_web_replies_are_delivered_once_in_the_same_step(store: Store) -> None:
    inbound = Inbound(channel="web", user="client-0123456789abcdef", event_id="x", text="hi")
    conv = await store.accept(inbound)
    assert conv is not None
    [(entry_id, fields)] = await received(store)
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("hi", [{"text": "hello"}], None, "th")
    )
    await store.redis.xgroup_create(OUTBOUND, SENDERS, id="0")
    found = await store.redis.xreadgroup(SENDERS, "test", {OUTBOUND: ">"})
    out_id, out = found[0][1][0]
    assert await store.finish_outbound(Reply.read(out_id, out), web=True)
    assert not await store.finish_outbound(Reply.read(out_id, out), web=True)
    [(_, web)] = await store.redis.xrange(web_key(conv))
    assert store.sealer.open(web["replies"]) == [{"text": "hello"}]
    assert await store.redis.hget(conversation_key(conv), "out_done") == "1"


async def everything(store: Store) -> dict[str, str]:
    """Every key with all it holds, as text: what an attacker with the database would see."""
    found = {}
    for key in await store.redis.keys("*"):
        kind = await store.redis.type(key)
        if kind == "string":
            found[key] = str(await store.redis.get(key))
        elif kind == "list":
            found[key] = str(await store.redis.lrange(key, 0, -1))
        elif kind == "hash":
            found[key] = str(await store.redis.hgetall(key))
        elif kind == "zset":
            found[key] = str(await store.redis.zrange(key, 0, -1))
        elif kind == "stream":
            found[key] = str(await store.redis.xrange(key))
    return found


async def test_forget_leaves_nothing_of_the_conversation_but_an_audit_line(store: Store) -> None:
    await store.accept(message("นายจ้างยึดพาสปอร์ต", "u1", user="forgetful"))
    await store.accept(message("other person", "o1", user="someone-else"))
    entries = await received(store, 2)
    (entry_id, fields), (other_id, other) = entries
    conv = fields["conv"]
    await store.redis.set(f"rasa:tracker:{conv}", "{}")
    await store.redis.set(f"rasa:replies:{conv}", "[]")
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("x", [{"text": "ok"}], {"risk": "high"}, "th")
    )
    await store.finish_inbound(
        Received.read(other_id, other), Outcome("y", [{"text": "ok"}], None, "th")
    )
    await store.change(conv, "claim", "anna")
    await store.add_note(conv, "anna", "called back")
    await store.audit("anna", "viewed", conv)
    await store.remember_messages(conv, ["7", "8"])
    await store.accept(message("still coming", "u2", user="forgetful"))  # not handled yet
    before = await everything(store)
    assert sum(conv in text or conv in key for key, text in before.items()) >= 10

    await store.forget(conv)

    after = await everything(store)
    assert not [key for key, text in after.items() if conv in key or conv in text]
    assert after.keys() <= before.keys(), "nothing new but the audit line"
    audit = await store.redis.xrange(AUDIT)
    assert [e["action"] for _, e in audit] == ["erased"] and audit[0][1]["conv"] == ""
    assert after.get(conversation_key(other["conv"])), "the other conversation is untouched"
    # A message that arrives now starts a new conversation, from the first message again.
    assert await store.accept(message("hello again", "u3", user="forgetful")) == conv
    assert (await store.conversation(conv))["in_seq"] == "1"


async def calls(store: Store) -> dict[str, int]:
    stats = await store.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): found["calls"] for name, found in stats.items()}


async def work_of_forgetting(store: Store, user: str, others: int) -> dict[str, int]:
    """Redis commands "forget me" runs for a conversation, with `others` messages of other people
    waiting in the inbound stream."""
    await store.accept(message("นายจ้างยึดพาสปอร์ต", f"{user}-1", user=user))
    [(entry_id, fields)] = await received(store)
    conv = fields["conv"]
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("x", [{"text": "ok"}], {"risk": "high"}, "th")
    )
    await store.add_note(conv, "anna", "called back")
    await store.audit("anna", "viewed", conv)
    for n in range(others):
        await store.accept(message(f"hello {n}", f"{user}-o{n}", user=f"{user}-other-{n}"))
        await store.audit("anna", "viewed", f"{user}-other-{n}")
    before = await calls(store)
    await store.forget(conv)
    after = await calls(store)
    return {name: n - before.get(name, 0) for name, n in after.items() if n != before.get(name)}


async def test_forget_does_the_same_work_however_much_else_is_stored(store: Store) -> None:
    alone = await work_of_forgetting(store, "alone", 0)
    crowded = await work_of_forgetting(store, "crowded", 300)
    assert crowded == alone, "the work grows with the conversation, not with all stored data"
    assert not {"scan", "keys", "xrange", "xrevrange"} & alone.keys(), alone


async def test_an_operator_may_take_a_conversation_from_the_recent_ones(store: Store) -> None:
    await store.accept(message("hello", "e1"))
    [(entry_id, fields)] = await received(store)
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("hello", [{"text": "hi"}], None, "th")
    )
    conv = fields["conv"]
    assert [c for c, _ in await store.recent()] == [conv]
    assert await store.change(conv, "claim", "anna") is State.OPERATOR
    found = await store.conversation(conv)
    assert found["reason"] == "operator" and "waited" not in found
    assert await store.recent() == [], "with an operator, it leaves the list"
    await store.change(conv, "close", "anna", say="bye")
    assert [c for c, _ in await store.recent()] == [conv]


async def test_rotating_the_key_keeps_old_data_readable_and_rewrites_it(store: Store) -> None:
    await store.accept(message("นายจ้างยึดพาสปอร์ต", "u1"))
    [(entry_id, fields)] = await received(store)
    conv = fields["conv"]
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("x", [{"text": "ok"}], {"risk": "high"}, "th")
    )
    await store.add_note(conv, "anna", "called back")
    await store.redis.set(f"rasa:tracker:{conv}", store.sealer.seal({"events": ["hi"]}))
    new_key = Fernet.generate_key()
    # Step 1: the new key first, the old one still listed: everything old is readable.
    both = Store(store.redis, ID_SECRET, new_key + b"," + MESSAGE_KEY, ttl=3600)
    before = (await both.transcript(conv), await both.address(conv), await both.handoff(conv))
    assert before[0][0]["text"] == "x" and before[2]["risk"] == "high"
    # Step 2: re-encrypt, then drop the old key: still readable, and the old key reads nothing.
    keys, values = await rotate(store.redis, both.sealer)
    assert (keys, values) == (5, 6), "address, transcript (2 lines), notes, hand-off, tracker"
    only_new = Store(store.redis, ID_SECRET, new_key, ttl=3600)
    assert (
        await only_new.transcript(conv),
        await only_new.address(conv),
        await only_new.handoff(conv),
    ) == before
    assert (await only_new.notes(conv))[0]["text"] == "called back"
    tracker = await store.redis.get(f"rasa:tracker:{conv}")
    assert only_new.sealer.open(tracker) == {"events": ["hi"]}
    with pytest.raises(ValueError, match="MESSAGE_KEY"):
        await store.transcript(conv)


async def test_every_trace_of_a_conversation_expires_after_its_retention_time(
    store: Store,
) -> None:
    short = Store(store.redis, ID_SECRET, MESSAGE_KEY, ttl=1)
    await short.accept(
        Inbound(
            "telegram", "12345", "u1", "นายจ้างยึดพาสปอร์ต", address={"chat_id": 1}, message_id="5"
        )
    )
    [(entry_id, fields)] = await received(short)
    conv = fields["conv"]
    await short.finish_inbound(
        Received.read(entry_id, fields), Outcome("x", [{"text": "ok"}], {"risk": "high"}, "th")
    )
    await short.change(conv, "claim", "anna")
    await short.add_note(conv, "anna", "called back")
    await short.remember_messages(conv, ["6"])
    await short.redis.xgroup_create(OUTBOUND, SENDERS, id="0", mkstream=True)
    [(out_id, out)] = (await short.redis.xreadgroup(SENDERS, "t", {OUTBOUND: ">"}))[0][1]
    await short.finish_outbound(Reply.read(out_id, out), web=False)
    assert sum(conv in text or conv in key for key, text in (await everything(short)).items()) >= 8
    assert await short.sweep() == 0, "nothing has expired yet"

    # Everything of the conversation expires after its 2 seconds: its keys by themselves, and what
    # the shared streams and queues hold of it when the sweep comes after that.
    swept = []

    async def traces() -> list[str]:
        swept.append(await short.sweep())
        left = await everything(short)
        return [key for key, text in left.items() if key != AUDIT and (conv in key or conv in text)]

    async def gone() -> bool:
        return not await traces()

    await until_async(gone, timeout=10, what="every trace of the conversation to expire")
    assert sum(swept) > 0, "the sweep removed what the conversation left in shared keys"
    assert not await traces()


async def test_danger_while_waiting_makes_it_immediate_once_per_message(store: Store) -> None:
    conv = await handed_off(store, risk="low")
    since = float((await store.conversation(conv))["waiting_since"])
    assert await store.raise_danger(conv, 2)
    assert not await store.raise_danger(conv, 2), "a replay of the same message alerts no one"
    found = await store.conversation(conv)
    assert found["risk"] == "immediate" and found["danger_in"] == "waiting"
    assert await store.redis.zscore(QUEUE, conv) == queue_score("immediate", since)
    danger = [e for e in await console_events(store) if e["kind"] == "danger"]
    assert danger == [
        {"kind": "danger", "conv": conv, "risk": "immediate", "holder": "", "state": "waiting"}
    ]
    assert await store.raise_danger(conv, 3), "danger said again alerts again"


async def test_danger_with_an_operator_names_the_holder_and_only_an_operator_lowers_it(
    store: Store,
) -> None:
    conv = await handed_off(store, risk="medium")
    await store.change(conv, "claim", "anna")
    assert await store.raise_danger(conv, 2)
    assert (await console_events(store))[-1]["holder"] == "anna"
    assert await store.redis.zscore(QUEUE, conv) is None, "held, so not queued again"
    with pytest.raises(NotAllowed, match="anna holds"):
        await store.change(conv, "risk", "ben", risk="low")
    with pytest.raises(NotAllowed, match="no such risk"):
        await store.change(conv, "risk", "anna", risk="none")
    await store.change(conv, "risk", "anna", risk="high")
    found = await store.conversation(conv)
    assert found["risk"] == "high" and "danger_open" not in found
    assert found["danger_in"] == "operator", "what happened stays on record"


async def test_no_danger_is_raised_without_a_handoff(store: Store) -> None:
    await store.accept(message("hello", "e1"))
    [(_, fields)] = await received(store)
    assert not await store.raise_danger(fields["conv"], 1)


async def test_a_person_who_leaves_quickly_keeps_the_danger_open(store: Store) -> None:
    conv = await handed_off(store)
    await store.raise_danger(conv, 2)
    await store.left(conv, "left quickly")
    assert (await store.conversation(conv)).get("danger_open") == "1"


async def test_a_waiting_person_withdraws_with_a_note_and_only_while_waiting(store: Store) -> None:
    conv = await handed_off(store)
    assert await store.withdraw(conv, 2, "withdrawn after 3 min")
    found = await store.conversation(conv)
    assert found["state"] == "bot" and found["withdrawn_in"] == "2"
    assert await store.redis.zscore(QUEUE, conv) is None
    assert [n["text"] for n in await store.notes(conv)] == ["withdrawn after 3 min"]
    assert not await store.withdraw(conv, 3, "again"), "no longer waiting"
    other = await handed_off(store, user="67890")
    await store.change(other, "claim", "anna")
    assert not await store.withdraw(other, 2, "with an operator, only the operator closes")
    assert await store.state(other) is State.OPERATOR


async def test_a_reminder_goes_once_when_due_then_after_the_pause(store: Store) -> None:
    conv = await handed_off(store)
    replies = [{"text": "still waiting"}]
    assert not await store.remind(conv, 600, 1800, replies), "not due yet"
    await store.redis.hincrbyfloat(conversation_key(conv), "waiting_since", -601)
    sent = await asyncio.gather(*(store.remind(conv, 600, 1800, replies) for _ in range(5)))
    assert sum(sent) == 1, "several workers at once: one sends it"
    assert not await store.remind(conv, 600, 1800, replies)
    await store.redis.hincrbyfloat(conversation_key(conv), "reminded_at", -1801)
    assert await store.remind(conv, 600, 1800, replies)
    out = [f for _, f in await store.redis.xrange(OUTBOUND) if f["reply_to"] == ""]
    assert [store.sealer.open(f["replies"]) for f in out] == [replies, replies]
    assert [line.get("reminder") for line in await store.transcript(conv)][-2:] == [True, True]
    await store.change(conv, "claim", "anna")
    await store.redis.hincrbyfloat(conversation_key(conv), "reminded_at", -1801)
    assert not await store.remind(conv, 600, 1800, replies), "taken: no more reminders"


async def test_the_audit_log_is_read_a_page_at_a_time_for_everyone_or_one_conversation(
    store: Store,
) -> None:
    for conv in ("th-aaa", "th-bbb"):
        await store.redis.hset(conversation_key(conv), "state", "bot")
    for n in range(230):
        await store.audit("anna", "viewed", "th-aaa" if n % 2 else "th-bbb", detail=str(n))

    async def every_page(conv: str, size: int) -> list[str]:
        seen: list[str] = []
        before = ""
        while page := await store.audit_page(conv, before, size):
            assert len(page) <= size
            seen += [fields["detail"] for _, fields in page]
            before = page[-1][0]
        return seen

    assert await every_page("th-aaa", 50) == [str(n) for n in range(229, 0, -2)]
    assert await every_page("", 100) == [str(n) for n in range(229, -1, -1)]
    await store.forget("th-aaa")
    assert await every_page("th-aaa", 50) == []
    assert len(await every_page("", 100)) == 115 + 1, "the other's lines and one erasure line"
    await store.audit("anna", "viewed", "th-aaa")
    await store.add_note("th-aaa", "anna", "too late")
    assert not await store.redis.exists(*keys_of("th-aaa")), "nothing of it comes back"
    [(_, line)] = await store.redis.xrevrange(AUDIT, count=1)
    assert line["action"] == "viewed" and line["conv"] == "", "the line names no one"


async def test_an_erasure_cut_short_by_a_crash_is_done_by_the_sweep(store: Store) -> None:
    await store.accept(message("/forget", "u1", user="crashed"))
    [(entry_id, fields)] = await received(store)
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("/forget", [{"text": "gone"}], None, "th", True)
    )
    conv = fields["conv"]
    assert await store.forgetting(conv)
    # The worker died here, before Store.forget.
    await store.sweep()
    assert not await store.redis.exists(*keys_of(conv)), "erased by the sweep"
    assert await store.redis.xlen(OUTBOUND) == 1, "the confirmation is still sent"


async def test_an_operator_who_takes_a_conversation_while_the_assistant_answers_keeps_it(
    store: Store,
) -> None:
    await store.accept(message("ขอคุยกับเจ้าหน้าที่", "u1"))
    [(entry_id, fields)] = await received(store)
    conv = fields["conv"]
    # Rasa is still answering when an operator takes the conversation from the recent ones.
    await store.change(conv, "claim", "anna")
    handoff = {"risk": "high", "reason": "asked"}
    await store.finish_inbound(
        Received.read(entry_id, fields), Outcome("x", [{"text": "ok"}], handoff, "th")
    )
    found = await store.conversation(conv)
    assert found["state"] == "operator" and found["operator"] == "anna", "not un-assigned"
    assert await store.redis.zscore(QUEUE, conv) is None, "not queued behind her back"
    assert [c for c, _ in await store.with_operators()] == [conv]
