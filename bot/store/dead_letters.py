"""Dead letters: stream entries that failed DELIVERY_ATTEMPTS times, kept for supervisors to see
and send again, so that one entry that always fails neither retries for ever nor holds back its
conversation."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from bot.store.conversations import Conversations, now
from bot.store.keys import (
    CONSOLE_BACKLOG,
    DEAD_LETTERS,
    DELIVERY_ATTEMPTS,
    FAILURES,
    INBOUND,
    OUTBOUND,
    conversation_key,
    entries_key,
)

log = logging.getLogger(__name__)
# How much of an error's text a dead letter keeps.
ERROR_TEXT = 300


@dataclass(frozen=True)
class DeadLetter:
    """An entry that failed, as supervisors see it (no message text: that stays sealed)."""

    id: str
    stream: str
    conv: str
    channel: str
    at: float
    attempts: int
    error: str

    @classmethod
    def read(cls, entry_id: str, fields: dict[str, str]) -> DeadLetter:
        """A dead letter as the stream holds it."""
        return cls(
            id=entry_id,
            stream="received" if fields.get("stream") == INBOUND else "replies",
            conv=fields.get("conv", ""),
            channel=json.loads(fields.get("fields") or "{}").get("channel", ""),
            at=float(fields.get("at") or 0),
            attempts=int(fields.get("attempts") or 0),
            error=fields.get("error", ""),
        )


class DeadLetters(Conversations):
    """Counts failures, buries entries that keep failing, and sends them again."""

    async def failed(
        self,
        stream: str,
        group: str,
        entry_id: str,
        fields: dict[str, str],
        error: BaseException,
        attempts: int = DELIVERY_ATTEMPTS,
    ) -> bool:
        """Counts a failed attempt at an entry; True when the entry left the stream: after
        `attempts` failures it goes to the dead letters (or, when its conversation is gone, is
        dropped). An entry without a conversation or a sequence number can never succeed: it goes
        at once."""
        conv = fields.get("conv", "")
        seq = fields.get("seq", "")
        malformed = not conv or not seq.isdigit()
        keys = [stream, FAILURES, DEAD_LETTERS, conversation_key(conv), entries_key(conv)]
        args = {
            "group": group,
            "entry": entry_id,
            "attempts": 1 if malformed else attempts,
            "conv": conv,
            "seq": seq if seq.isdigit() else "",
            "done_field": "in_done" if stream == INBOUND else "out_done",
            "error": f"{type(error).__name__}: {error}"[:ERROR_TEXT],
            "fields": json.dumps(fields),
            "now": now(),
            "ttl": self.ttl,
            "dead_backlog": CONSOLE_BACKLOG,
        }
        found = await self.scripts.run("failed", keys, args)
        if found == 1:
            log.error(
                "%s %s failed %s times: now a dead letter", stream, entry_id, args["attempts"]
            )
        elif found == -1:
            log.warning("%s %s failed and its conversation is gone: dropped", stream, entry_id)
        return bool(found)

    async def dead_letters(self, limit: int = 200) -> list[DeadLetter]:
        """The dead letters, newest first."""
        found: list[tuple[str, dict[str, str]]] = await self.redis.xrevrange(
            DEAD_LETTERS, count=limit
        )
        return [DeadLetter.read(entry_id, fields) for entry_id, fields in found]

    async def dead_letter(self, letter_id: str) -> DeadLetter | None:
        """One dead letter; None when there is none with that id (sent again, or expired)."""
        found: list[tuple[str, dict[str, str]]] = await self.redis.xrange(
            DEAD_LETTERS, letter_id, letter_id
        )
        return DeadLetter.read(*found[0]) if found else None

    async def retry(self, letter_id: str) -> int:
        """Puts a dead letter back on its stream as its conversation's newest entry: 1 when done,
        0 when it was sent again before, -1 when its conversation is gone (the letter goes)."""
        letter = await self.dead_letter(letter_id)
        if letter is None:
            return 0
        received = letter.stream == "received"
        conv, stream = letter.conv, INBOUND if received else OUTBOUND
        keys = [DEAD_LETTERS, conversation_key(conv), entries_key(conv), stream]
        args = {
            "id": letter_id,
            "seq_field": "in_seq" if received else "out_seq",
            "now": now(),
            "ttl": self.ttl,
        }
        done: int = await self.scripts.run("retry_dead", keys, args)
        return done
