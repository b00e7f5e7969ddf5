"""Waiting is not a void (CONTRACT.md, "Hand-off"): a person nobody has taken after
WAIT_REMINDER_MINUTES is told that they are still in the queue, how to go back to the assistant
and the lines to call; again at most every REPEAT_SECONDS while it lasts.

A job every worker runs every CHECK_SECONDS (bot/worker.py): what is due is read from the
conversations in Redis, and each reminder is sent by one atomic step that checks it is still due
(bot/store.py `remind`), so it survives restarts and, with several workers, goes out once.
"""

from __future__ import annotations

import time
from typing import Any

from bot.store import Store
from hotline.content import gateway_texts
from hotline.handoff import back_buttons
from hotline.hotlines import while_waiting
from hotline.language import LANGUAGES

REPEAT_SECONDS = 30 * 60
CHECK_SECONDS = 5.0


def due(conversation: dict[str, str], now: float, first_after: float, every: float) -> bool:
    """Whether a waiting conversation should be reminded now (the store checks it again)."""
    since = float(conversation.get("waiting_since") or now)
    last = float(conversation.get("reminded_at") or 0)
    at = since + first_after
    if last >= since:
        at = max(at, last + every)
    return now >= at


def reminder(country: str | None, language: str | None) -> list[dict[str, Any]]:
    """The reminder in the person's language (all three when unknown), with the lines to call
    and the button that goes back to the assistant."""
    texts = gateway_texts()["still_waiting"]
    said = texts[language] if language in LANGUAGES else "\n\n".join(texts[x] for x in LANGUAGES)
    text = f"{said}\n{while_waiting(country, language)}"
    return [{"text": text, "buttons": back_buttons(language)}]


async def remind_due(store: Store, first_after: float, every: float = REPEAT_SECONDS) -> int:
    """Sends the reminders that are due; how many went. The queue holds only waiting
    conversations, and the store checks the state again in the same step as the send."""
    now = time.time()
    sent = 0
    for conv, found in await store.waiting():
        if not due(found, now, first_after, every):
            continue
        replies = reminder(found.get("country") or None, found.get("language") or None)
        sent += await store.remind(conv, first_after, every, replies)
    return sent
