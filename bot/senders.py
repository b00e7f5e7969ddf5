"""Delivers the outbound stream: each conversation's replies in order, through its channel."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from redis.exceptions import RedisError

from bot import audio, metrics
from bot.backoff import CHANNEL, Backoff
from bot.channel_names import LINE, TELEGRAM, WEB
from bot.consumer import NotYet
from bot.media import FILES_PATH, MediaStore
from bot.store import OUTBOUND, SENDERS, Reply, Store, Turn
from bot.voices import Voices
from hotline.content import gateway_texts

log = logging.getLogger(__name__)


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
    ) -> list[str]:
        """Sends the replies in order and returns the ids of the messages that the channel would
        let a bot delete later (none where it cannot); RetryLater or any error means: not
        delivered. `key` is the same for every attempt at the same replies (for channels that can
        drop a repeat)."""

    async def fetch(self, media: dict[str, Any]) -> bytes:
        """The bytes of a photo, recording or file the person sent (Inbound.media); Refused
        (bot/media.py) when it is too big to take, any other error when it cannot be had now."""

    async def erase(self, address: dict[str, Any], message_ids: list[str]) -> None:
        """Deletes what it can of these messages from the person's chat."""

    async def close(self) -> None:
        """Closes the connections."""


class Senders:
    """Handles entries of the outbound stream."""

    def __init__(
        self,
        store: Store,
        channels: dict[str, ChannelSender],
        media: MediaStore,
        sounds: Voices,
        attempts: int = 8,
    ) -> None:
        """`channels` maps a channel name to its sender (the web chat needs none); `media` holds
        what an operator sends (bot/media.py), `sounds` the texts read aloud (bot/voices.py)."""
        self.store = store
        self.channels = channels
        self.media = media
        self.sounds = sounds
        self.attempts = attempts

    async def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        """Delivers one entry's replies once, after the conversation's earlier ones."""
        reply = Reply.read(entry_id, fields)
        conv, channel = reply.conv, reply.channel
        # The confirmation of "forget me" is the conversation's last entry, sent after its erasure
        # with the address it carries.
        turn = Turn.GO if reply.forget else await self.store.wait_turn(conv, reply.seq, "out_done")
        if turn is Turn.LATER:
            raise NotYet
        delivered = turn is Turn.GO
        if turn is Turn.GO and channel != WEB:
            try:
                if reply.forget:
                    sealed = reply.sealed_address
                    address = self.store.sealer.open(sealed) if sealed else {}
                else:
                    address = await self.store.address(conv)
                if reply.exit:
                    await self._erase(channel, conv, address)
                opened = self.store.sealer.open(reply.sealed_replies)
                replies = await self._with_media(conv, channel, opened)
                sent = await self._deliver(channel, replies, entry_id, address)
                if not reply.forget:
                    await self.store.remember_messages(conv, sent)
            except Undeliverable as error:
                log.warning("%s: replies to %s dropped: %s", channel, conv, error)
                delivered = False
        if await self.store.finish_outbound(reply, web=channel == WEB) and delivered:
            metrics.delivered(channel, reply.received)

    async def failed(self, entry_id: str, fields: dict[str, str], error: Exception) -> bool:
        """Counts a failure to deliver (Redis being away does not count); True when the replies
        became a dead letter."""
        if isinstance(error, RedisError):
            return False
        return await self.store.failed(OUTBOUND, SENDERS, entry_id, fields, error)

    async def _erase(self, channel: str, conv: str, address: dict[str, Any]) -> None:
        """Deletes the chat's messages that the channel still allows a bot to delete."""
        ids = await self.store.deletable_messages(conv)
        await self._sender(channel).erase(address, ids)
        await self.store.drop_messages(conv)

    async def _with_media(
        self, conv: str, channel: str, replies: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The replies, each photo, recording or file an operator sends with its bytes (`data`);
        one that is gone (the conversation forgotten meanwhile) is left out. A text read aloud
        goes to Telegram as its OGG bytes (LINE fetches it from the web process)."""
        ready = []
        for reply in replies:
            if "listen" in reply and channel == TELEGRAM:
                heard = reply["listen"]
                sound = await self.sounds.sound(heard["text"], heard["language"], "ogg")
                if sound is None:  # its recording removed meanwhile, and Khmer has no speech
                    missing = gateway_texts()["listen_missing"][heard["language"]]
                    reply = {"text": missing, "buttons": reply.get("buttons", [])}
                else:
                    reply = {**reply, "data": sound.data}
            elif "media" in reply and channel == LINE:
                shown = await self._for_line(conv, reply)
                if shown is None:
                    continue
                reply = shown
            elif "media" in reply:
                found = await self.media.read(conv, str(reply["media"].get("id", "")))
                if found is None:
                    continue
                reply = {**reply, "data": found[1]}
            ready.append(reply)
        return ready

    async def _for_line(self, conv: str, reply: dict[str, Any]) -> dict[str, Any] | None:
        """A photo or recording as LINE takes it from a bot: a link it fetches (bot/webchat.py
        serves it), for a recording an M4A with its length; None for what LINE cannot show (the
        console sends it nothing else) or what is gone."""
        sent = reply["media"]
        if sent.get("mime") in ("image/jpeg", "image/png"):
            link = f"{FILES_PATH}/{self.media.link(conv, str(sent['id']), 'line')}"
            return {**reply, "line": {"type": "image", "path": link}}
        if sent.get("kind") != "audio":
            log.warning("line: a %s cannot be sent to LINE; left out", sent.get("mime"))
            return None
        found = await self.media.read(conv, str(sent["id"]))
        if found is None:
            return None
        mime, data = found
        if mime != "audio/mp4":  # kept beside it: forgotten with the conversation
            data = await audio.convert(data, "m4a")
            sent = await self.media.save(conv, data)
        seconds = await audio.seconds(data)
        link = f"{FILES_PATH}/{self.media.link(conv, str(sent['id']), 'line')}"
        return {**reply, "line": {"type": "audio", "path": link, "ms": round(seconds * 1000)}}

    def _sender(self, channel: str) -> ChannelSender:
        sender = self.channels.get(channel)
        if sender is None:
            raise RuntimeError(f"no sender for channel {channel!r} is configured")
        return sender

    async def _deliver(
        self, channel: str, replies: list[dict[str, Any]], key: str, address: dict[str, Any]
    ) -> list[str]:
        """Sends with retries; the ids of the sent messages that may be deleted later."""
        sender = self._sender(channel)
        backoff = Backoff(*CHANNEL)
        for attempt in range(1, self.attempts + 1):
            try:
                return await sender.deliver(address, replies, key)
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
                await backoff.wait()
        raise RuntimeError(f"{channel}: still asked to wait after {self.attempts} attempts")
