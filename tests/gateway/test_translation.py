"""Machine translation for operators (TRANSLATE_URL): the real client against a stand-in
LibreTranslate server on 127.0.0.1, and the console's pages that use it."""

from __future__ import annotations

import pytest

from bot.store import conversation_key
from handoff.translation import Translator
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.gateway.test_handed_off import asked_for_a_person
from tests.standins.translate_api import API_KEY, TranslateStandIn, translated
from tests.waiting import until


@pytest.mark.asyncio
async def test_the_client_translates_and_remembers() -> None:
    with TranslateStandIn() as server:
        translator = Translator(server.url, API_KEY)
        assert await translator.translate("xin chào", "vi", "en") == translated(
            "xin chào", "vi", "en"
        )
        assert await translator.translate("xin chào", "vi", "en")
        assert len(server.asked()) == 1, "the second came from memory"
        assert server.asked()[0] == {
            "q": "xin chào",
            "source": "vi",
            "target": "en",
            "format": "text",
            "api_key": API_KEY,
        }
        assert await translator.translate("ok", "th", "th") == "ok", "nothing to translate"
        assert len(server.asked()) == 1
        refused = Translator(server.url, "wrong key")
        assert await refused.translate("xin chào", "vi", "en") is None
        await translator.close()
        await refused.close()


@pytest.mark.asyncio
async def test_an_unreachable_server_is_no_translation_not_an_error() -> None:
    with TranslateStandIn() as server:
        url = server.url
    assert await Translator(url, API_KEY).translate("xin chào", "vi", "en") is None


@pytest.mark.servers
def test_the_operator_reads_a_translation_and_checks_a_reply_before_sending(stack: Stack) -> None:
    person = asked_for_a_person(stack, "telegram", "vi")
    person.say_unanswered(stack, "tôi đang ở Rayong")
    operator = login(stack, make_user(stack))
    page = operator.get(f"/console/c/{person.conv}").text
    assert "Machine translation" in page
    assert translated("tôi đang ở Rayong", "vi", "en") in page

    claimed = operator.post(f"/console/c/{person.conv}/claim", data={"csrf": _csrf(page)})
    page = operator.get(claimed.headers["location"]).text
    assert 'id="translate"' in page
    assert person.chat
    chat_id = person.chat.id
    before = len(stack.telegram.sent(chat_id))
    sent_before = stack.redis.hget(conversation_key(person.conv), "out_seq")
    preview = operator.post(
        f"/console/c/{person.conv}/translate", data={"csrf": _csrf(page), "text": "Are you safe?"}
    ).text
    there = translated("Are you safe?", "en", "vi")
    assert f">{there}</textarea>" in preview.replace("&gt;", ">").replace("&lt;", "<")
    assert translated(there, "vi", "en") in preview.replace("&gt;", ">")
    outbound = stack.redis.hget(conversation_key(person.conv), "out_seq")
    assert outbound == sent_before, "a preview sends nothing"
    operator.post(f"/console/c/{person.conv}/reply", data={"csrf": _csrf(page), "text": there})
    until(lambda: len(stack.telegram.sent(chat_id)) > before, what="the operator's reply")
    assert stack.telegram.sent(chat_id)[-1]["text"] == there
