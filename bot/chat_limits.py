"""The limit per chat for the channels that call a webhook (Telegram, LINE): a person pressing
through the screening sends a message every second or two; a flood sends hundreds. Past the limit a
message is dropped but acknowledged (a channel that gets an error sends the same update again, and
holds back everyone's updates meanwhile), and the person is told once per window, in their
language, with the emergency numbers. Danger, the safe word, /exit and /forget are still read past
the limit (up to URGENT more per window): nobody in danger meets silence."""

from __future__ import annotations

from bot import metrics
from bot.commands import FORGET, as_command
from bot.limits import Limit, Limiter
from bot.safety import QuickExit
from bot.store import Inbound, Store
from hotline.content import gateway_texts
from hotline.hotlines import emergency
from hotline.language import LANGUAGES, detect
from hotline.understood import from_words

URGENT = 10


class ChatLimiter:
    """Queues a channel's messages, at most `limit` per chat."""

    def __init__(self, store: Store, limit: Limit, quick_exit: QuickExit) -> None:
        """Counts in the store's Redis, under the conversation's pseudonym; `quick_exit` says
        what a person sends to leave quickly."""
        self.store = store
        self.limit = limit
        self.quick_exit = quick_exit
        self.urgent = Limit(f"{limit.name}-urgent", URGENT, limit.seconds)
        self.told = Limit(f"{limit.name}-told", 1, limit.seconds)
        self._limiter = Limiter(store.redis, store.id_secret)

    async def accept(self, message: Inbound) -> bool:
        """Queues the message (see Store.accept); False when the chat is over its limit and the
        message was dropped. A channel sending an event again is not counted twice."""
        if await self.store.seen(message):
            return True
        conv = self.store.conversation_id(message.channel, message.user)
        if not await self._limiter.wait(self.limit, conv) or (
            self._urgent(message.text) and not await self._limiter.wait(self.urgent, conv)
        ):
            if await self.store.accept(message) is not None:
                metrics.received(message.channel)
            return True
        metrics.refused(self.limit.name)
        if not await self._limiter.wait(self.told, conv):
            found = await self.store.conversation(conv)
            language = found.get("language") or detect(message.text) or None
            texts = gateway_texts()["slow_down"]
            text = texts[language] if language else "\n".join(texts[code] for code in LANGUAGES)
            numbers = emergency(found.get("country") or None, language)
            await self.store.tell(conv, [{"text": f"{text}\n\n{numbers}"}])
        return False

    def _urgent(self, text: str) -> bool:
        """Danger, leaving quickly or erasing: read even past the limit."""
        return (
            as_command(text) == FORGET or self.quick_exit.asked(text) or from_words(text)["danger"]
        )
