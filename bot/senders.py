"""Delivers the outbound stream: each conversation's replies in order, through its channel."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from bot.store import Store, Turn

log = logging.getLogger(__name__)

WEB = "web"


class RetryLater(Exception):
    """The channel asked to wait (e.g. Telegram's 429 with retry_after)."""

    def __init__(self, seconds: float) -> None:
        """How long the channel asked to wait."""
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The channel will never take these replies (the person blocked the bot, no address)."""


class ChannelSender(Protocol):
    """Sends replies to one address of a channel."""

    async def deliver(
        self, address: dict[str, Any], replies: list[dict[str, Any]], key: str
    ) -> None:
        """Sends the replies in order; RetryLater or any error means: not delivered. `key` is the
        same for every attempt at the same replies (for channels that can drop a repeat)."""

    async def close(self) -> None:
        """Closes the connections."""


class Senders:
    """Handles entries of the outbound stream."""

    def __init__(self, store: Store, channels: dict[str, ChannelSender], attempts: int = 8) -> None:
        """`channels` maps a channel name to its sender; the web chat needs none."""
        self.store = store
        self.channels = channels
        self.attempts = attempts

    async def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        """Delivers one entry's replies once, after the conversation's earlier ones."""
        conv, seq = fields["conv"], int(fields["seq"])
        turn = await self.store.wait_turn(conv, seq, "out_done")
        if turn is Turn.LATER:
            return
        channel = fields["channel"]
        if turn is Turn.GO and channel != WEB:
            try:
                replies = self.store.sealer.open(fields["replies"])
                await self._deliver(channel, conv, replies, entry_id)
            except Undeliverable as error:
                log.warning("%s: replies to %s dropped: %s", channel, conv, error)
        done = await self.store.finish_outbound(entry_id, fields, web=channel == WEB)
        if done and fields.get("forget"):
            await self.store.forget(conv)

    async def _deliver(
        self, channel: str, conv: str, replies: list[dict[str, Any]], key: str
    ) -> None:
        sender = self.channels.get(channel)
        if sender is None:
            raise RuntimeError(f"no sender for channel {channel!r} is configured")
        address = await self.store.address(conv)
        pause = 0.5
        for attempt in range(1, self.attempts + 1):
            try:
                await sender.deliver(address, replies, key)
                return
            except Undeliverable:
                raise
            except RetryLater as wait:
                log.warning("%s asked to wait %.1f s (attempt %d)", channel, wait.seconds, attempt)
                await asyncio.sleep(wait.seconds)
            except Exception as error:
                if attempt == self.attempts:
                    raise
                log.warning(
                    "%s send failed: %s (attempt %d)", channel, type(error).__name__, attempt
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
        raise RuntimeError(f"{channel}: still asked to wait after {self.attempts} attempts")
