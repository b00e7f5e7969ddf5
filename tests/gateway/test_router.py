"""What the router sends the assistant for commands typed in any channel; erasures in turn."""

from __future__ import annotations

import asyncio

import pytest

from bot.limits import Limit
from bot.rasa_client import RasaClient
from bot.router import Router, as_command
from bot.safety import QuickExit
from bot.store import Inbound, Store, conversation_key


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("/forget", "/forget_me"),
        ("/help", "/show_menu"),
        ("/help@hotline_bot", "/show_menu"),
        ("/START ngo-7", "/greet"),
        ("/lang", "/lang"),
        ("/affirm", "/affirm"),
        ('/choose_country{"country":"th"}', '/choose_country{"country":"th"}'),
        ("ช่วยด้วย /help", "ช่วยด้วย /help"),
    ],
)
def test_typed_commands(typed: str, read: str) -> None:
    assert as_command(typed) == read


@pytest.mark.asyncio
async def test_erasures_beyond_the_limit_wait_their_turn(store: Store) -> None:
    convs = []
    for n in range(3):
        conv = await store.accept(Inbound("telegram", f"person-{n}", f"e{n}", "/forget"))
        assert conv is not None
        convs.append(conv)
    router = Router(
        store, RasaClient(("http://127.0.0.1:9",)), QuickExit(), Limit("erasures", 1, 1)
    )
    erasing = asyncio.gather(*(router._erase(conv) for conv in convs))
    await asyncio.sleep(0.3)
    left = [conv for conv in convs if await store.redis.exists(conversation_key(conv))]
    assert len(left) == 2, "one erasure per second: the others wait"
    await asyncio.wait_for(erasing, 10)
    assert not await store.redis.exists(*(conversation_key(conv) for conv in convs)), "all done"
