"""The one retry policy for everything that talks to Redis, Rasa or a channel: after a failure wait
a little, twice as long after each further one, never longer than a ceiling, and from the start
again after a success. Each caller says how many attempts it makes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Pauses between attempts: `first` seconds, doubling up to `most`."""

    first: float = 0.2
    most: float = 5.0
    _pause: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Starts from the first pause."""
        self._pause = self.first

    def next(self) -> float:
        """The pause before the next attempt (the following one will be longer)."""
        pause = self._pause
        self._pause = min(self._pause * 2, self.most)
        return pause

    async def wait(self, at_least: float = 0.0) -> None:
        """Sleeps the next pause, or `at_least` when the other side asked for longer."""
        await asyncio.sleep(max(self.next(), at_least))

    def reset(self) -> None:
        """After a success: the next failure waits the first pause again."""
        self._pause = self.first


# The policies, (first pause, ceiling) in seconds: Redis and Rasa come back within seconds (a
# restart); a channel may ask for half a minute; Telegram's long polling is never in a hurry.
REDIS = (0.2, 5.0)
RASA = (0.2, 5.0)
CHANNEL = (0.5, 30.0)
# A message waiting for its conversation's earlier one, handled elsewhere: tried again within a
# second, however long it waits.
TURN = (0.1, 1.0)
TELEGRAM_POLLING = (1.0, 15.0)
