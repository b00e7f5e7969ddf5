"""What the router sends the assistant for commands typed in any channel."""

from __future__ import annotations

import pytest

from bot.commands import as_command


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
