"""What the router sends the assistant for commands typed in any channel."""

from __future__ import annotations

import pytest

from bot.commands import as_command
from bot.safety import QuickExit


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


@pytest.mark.parametrize(
    "typed", ["exit", "Exit", " EXIT ", "exit!", "/exit", "ดอกมะลิ", "hoa nhài"]
)
def test_exit_typed_alone_leaves_quickly(typed: str) -> None:
    assert QuickExit().asked(typed)


@pytest.mark.parametrize("typed", ["exit the questions", "how do I exit this job", "thoát"])
def test_exit_inside_a_sentence_does_not(typed: str) -> None:
    assert not QuickExit().asked(typed)
