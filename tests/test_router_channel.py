"""The router's channel into Rasa (rasa_plugins/router_channel.py), against a real Rasa server:
what it understood comes with the replies; `/parse` understands without the dialogue, and finds
danger inside a long story."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import redis

from hotline.sealer import Sealer
from tests.servers import MESSAGE_KEY
from tests.test_understood import THAI_STORY

pytestmark = pytest.mark.servers


def post(url: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/webhooks/router/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def test_the_replies_end_with_what_was_understood(rasa_url: str) -> None:
    body = {"sender": "te-understood", "message": "xin chào", "message_id": "m1", "metadata": {}}
    replies = post(rasa_url, "webhook", body)
    understood = replies[-1]["custom"]["understood"]
    assert understood == {"intent": "greet", "topic": "", "danger": False, "language": "vi"}
    assert post(rasa_url, "webhook", body) == replies, "a repeat gets the same replies"


def test_parse_understands_without_the_dialogue(rasa_url: str, redis_client: redis.Redis) -> None:
    found = post(rasa_url, "parse", {"message": "นายจ้างเก็บพาสปอร์ตผมไว้ไม่ยอมคืน"})
    assert found == {
        "intent": "rights",
        "topic": "passport_taken",
        "danger": False,
        "language": "th",
    }
    assert post(rasa_url, "parse", {"message": "cứu tôi, họ đang đánh tôi, tôi bị nhốt"})["danger"]
    assert not redis_client.keys("rasa:tracker:*"), "no conversation was touched"


def test_danger_inside_a_long_story_is_found(rasa_url: str) -> None:
    found = post(rasa_url, "parse", {"message": THAI_STORY})
    assert found["danger"] and found["intent"] == "in_danger"
    calm = THAI_STORY.replace("เมื่อคืนหัวหน้าเอาไม้ตีผมแล้วล็อกห้องไว้ ", "")
    assert not post(rasa_url, "parse", {"message": calm})["danger"], "the rest is no danger"


def test_kept_replies_are_encrypted_and_kept_minutes(
    rasa_url: str, redis_client: redis.Redis
) -> None:
    body = {"sender": "te-kept", "message": "ขอคุยกับเจ้าหน้าที่", "message_id": "k1", "metadata": {}}
    replies = post(rasa_url, "webhook", body)
    assert any("handoff" in (r.get("custom") or {}) for r in replies)
    key = "rasa:replies:te-kept"
    stored = str(redis_client.get(key))
    assert "handoff" not in stored and "request_human" not in stored, "sealed"
    assert Sealer(MESSAGE_KEY.encode()).open(stored) == {"message_id": "k1", "replies": replies}
    assert post(rasa_url, "webhook", body) == replies, "a repeat gets the kept replies"
    tracker = Sealer(MESSAGE_KEY.encode()).open(str(redis_client.get("rasa:tracker:te-kept")))
    assert [e["event"] for e in tracker["events"]].count("user") == 1, "Rasa saw it once"
    assert 0 < redis_client.ttl(key) <= 900, "minutes, not a day"


def test_a_message_older_than_the_one_answered_is_refused(
    rasa_url: str, redis_client: redis.Redis
) -> None:
    def body(message_id: str, text: str) -> dict[str, Any]:
        return {"sender": "te-late", "message": text, "message_id": message_id, "metadata": {}}

    post(rasa_url, "webhook", body("1700000000000-0", "xin chào"))
    post(rasa_url, "webhook", body("1700000000001-0", "tôi muốn về nhà"))
    with pytest.raises(urllib.error.HTTPError) as late:
        post(rasa_url, "webhook", body("1700000000000-0", "xin chào"))
    assert late.value.code == 409, "a worker that took it over late is told it was answered"
    tracker = Sealer(MESSAGE_KEY.encode()).open(str(redis_client.get("rasa:tracker:te-late")))
    assert [e["event"] for e in tracker["events"]].count("user") == 2, "Rasa saw each once"


def test_a_tracker_redis_cannot_give_is_a_500_not_a_new_conversation(
    rasa_url: str, redis_client: redis.Redis
) -> None:
    """Rasa's fail-safe store would answer from a blank tracker and write it over the stored one
    (what a Redis failover did in the cluster test); the router must be told to try again."""
    redis_client.hset("rasa:tracker:te-unreadable", "not", "a tracker")
    body = {"sender": "te-unreadable", "message": "xin chào", "message_id": "m1", "metadata": {}}
    with pytest.raises(urllib.error.HTTPError) as refused:
        post(rasa_url, "webhook", body)
    assert refused.value.code == 500
    assert redis_client.type("rasa:tracker:te-unreadable") == "hash", "nothing was written over it"
