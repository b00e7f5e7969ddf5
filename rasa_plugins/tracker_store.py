"""A Redis tracker store that keeps a bounded window of each conversation's events.

Rasa serializes, stores, re-reads and replays the whole tracker on every message, so with the
stock stores a message at turn 400 costs many times one at turn 1. This store keeps only the most
recent events (the state before them is folded into slot events), so the cost per message stays
flat. The full transcript belongs to the project's own conversation store, not to Rasa.

Trackers hold what people wrote, so they are stored encrypted with the gateway's MESSAGE_KEY.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from hotline.redis_sentinels import sentinels_of
from hotline.sealer import Sealer
from rasa_plugins.sentinel import primary


class WindowedRedisTrackerStore(RedisTrackerStore):
    """Stores trackers in Redis, encrypted, cut to the last `max_events` events at most."""

    def __init__(
        self,
        domain: Domain,
        host: str = "localhost",
        port: int | str = 6379,
        max_events: int | str = 60,
        record_exp: float | str | None = None,
        message_key: str = "",
        sentinels: str = "",
        master_name: str = "",
        **kwargs: Any,
    ) -> None:
        """Connects to Redis; values from endpoints.yml may arrive as strings. `message_key`: the
        gateway's MESSAGE_KEY (Fernet keys, newest first)."""
        if not message_key.strip():
            raise ValueError(
                "the tracker store needs message_key (MESSAGE_KEY in the environment; `make run` "
                "makes one in var/secrets.env)"
            )
        self.sealer = Sealer(message_key.encode())
        super().__init__(
            domain,
            host=host,
            port=int(port),
            record_exp=float(record_exp) if record_exp else None,
            **kwargs,
        )
        self.max_events = int(max_events)
        found = sentinels_of(sentinels)
        if found:
            # On the primary the Sentinels name, found again after a failover.
            self.red = primary(found, master_name, kwargs.get("username"), kwargs.get("password"))

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Saves the tracker's last events (no merge with the stored copy: that is a window too)."""
        await self.stream_events(tracker)
        kept = window(tracker, self.domain, self.max_events)
        expiry = timeout or self.record_exp
        self.red.set(
            self.key_prefix + tracker.sender_id,
            self.serialise_tracker(kept),
            ex=int(expiry) if expiry else None,
        )

    def serialise_tracker(self, tracker: DialogueStateTracker) -> str:
        """The tracker as encrypted JSON."""
        return self.sealer.seal(tracker.as_dialogue().as_dict())

    def deserialise_tracker(
        self, sender_id: str, serialised_tracker: str | bytes
    ) -> DialogueStateTracker | None:
        """The tracker from its encrypted JSON."""
        token = (
            serialised_tracker.decode()
            if isinstance(serialised_tracker, bytes)
            else serialised_tracker
        )
        return super().deserialise_tracker(sender_id, json.dumps(self.sealer.open(token)))


def window(tracker: DialogueStateTracker, domain: Domain, max_events: int) -> DialogueStateTracker:
    """The tracker itself when short; else its last events, starting at a user message, after
    events that restore the slots and the active form as they were at that point."""
    events = list(tracker.events)
    if len(events) <= max_events:
        return tracker
    cut = _cut_index(events, max_events // 2)
    if cut is None:
        return tracker
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], domain.slots)
    at = events[cut].timestamp
    prefix: list[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=at),
        SessionStarted(timestamp=at),
    ]
    for slot in before.slots.values():
        if slot.value != slot.initial_value:
            prefix.append(SlotSet(slot.name, slot.value, timestamp=at))
    if before.active_loop_name:
        prefix.append(ActiveLoop(before.active_loop_name, timestamp=at))
    prefix.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=at))
    return DialogueStateTracker.from_events(
        tracker.sender_id, prefix + events[cut:], domain.slots, sender_source=tracker.sender_source
    )


def _cut_index(events: list[Event], keep: int) -> int | None:
    """Index of the first user message among the last `keep` events, if there is one."""
    for index in range(len(events) - keep, len(events)):
        if isinstance(events[index], UserUttered):
            return index
    return None
