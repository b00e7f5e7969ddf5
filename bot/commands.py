"""Commands a person may type in any channel (the consent text tells them about /forget), and what
the assistant is sent instead."""

from __future__ import annotations

COMMANDS = {
    "/start": "/greet",
    "/lang": "/lang",
    "/help": "/show_menu",
    "/forget": "/forget_me",
    # The button under the waiting message, pressed when the person no longer waits.
    "/withdraw": "/show_menu",
}
FORGET = "/forget_me"
# What the assistant is sent when someone adds the LINE account (a greeting, no message yet).
FOLLOWED = "/greet"
SHOW_MENU = "/show_menu"


def as_command(text: str) -> str:
    """What the assistant reads for a typed command ("/forget", "/help@hotline_bot",
    "/start ngo-7"); any other text as it is."""
    if not text.startswith("/"):
        return text
    head = text.split(maxsplit=1)[0].split("@")[0].lower()
    return COMMANDS.get(head, text)
