"""Talk to the running assistant in a terminal, through Rasa's REST channel.

Buttons are numbered: type the number to press one. /lang switches language; /quit leaves.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

Button = dict[str, str]


def send(url: str, sender: str, text: str) -> list[dict[str, Any]]:
    """Sends one message and returns the bot's replies."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        replies: list[dict[str, Any]] = json.load(response)
    return replies


def show(replies: list[dict[str, Any]]) -> list[Button]:
    """Prints the replies; returns the buttons of the last message that had any."""
    buttons: list[Button] = []
    for reply in replies:
        if "text" in reply:
            print(f"\n🤖 {reply['text']}")
        if "custom" in reply:
            print(f"   [payload for the router: {json.dumps(reply['custom'], ensure_ascii=False)}]")
        if reply.get("buttons"):
            buttons = reply["buttons"]
            for number, button in enumerate(buttons, 1):
                print(f"   {number}. {button['title']}")
    return buttons


def main() -> None:
    """Read, send, print, until /quit or end of input."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print("Write a message (Thai, Vietnamese or Khmer). Numbers press buttons; /quit leaves.")
    buttons: list[Button] = []
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("\n> "), None):
        text = line.strip()
        if text == "/quit":
            break
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            buttons = show(send(args.url, sender, text))
        except urllib.error.URLError as error:
            sys.exit(
                f"Cannot reach the assistant at {args.url} ({error.reason}). Is `make run` up?"
            )


if __name__ == "__main__":
    try:
        main()
    except (EOFError, KeyboardInterrupt):
        print()
