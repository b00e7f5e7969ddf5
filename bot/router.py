"""The router: takes each received message from the inbound stream to Rasa (or, during a hand-off,
only to the transcript) and queues the replies on the outbound stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from redis.exceptions import RedisError

from bot import counts, outbox, referral_words, voices
from bot.audio import AudioError
from bot.channel_names import LINE, TELEGRAM, WEB
from bot.commands import FOLLOWED, FORGET, SHOW_MENU, as_command
from bot.consumer import NotYet
from bot.media import MediaStore, Refused
from bot.rasa_client import AlreadyAnswered, RasaClient, RasaUnavailable
from bot.safety import EXIT_BUTTON, QuickExit
from bot.senders import ChannelSender
from bot.store import INBOUND, ROUTERS, Outcome, Received, State, Store, Turn, referrals
from bot.voices import Voices
from hotline.content import console_texts, gateway_texts
from hotline.handoff import PAYLOAD_KEY as HANDOFF
from hotline.handoff import WITHDRAW
from hotline.hotlines import emergency, while_waiting
from hotline.language import LANGUAGES, detect, said_alone
from hotline.screening import SCREENED_KEY as SCREENED
from hotline.understood import Understood, from_words

# The payload of the language picker's buttons (content/turns.yaml).
CHOOSE_LANGUAGE = "/choose_language"
# What the "talk to a person" button sends (CONTRACT.md's request_human).
REQUEST_HUMAN = "/request_human"

log = logging.getLogger(__name__)

# Messages longer than this reach Rasa at most LONG_AT_ONCE at a time (per worker).
LONG_TEXT = 1000
LONG_AT_ONCE = 1
# Photos, recordings and files fetched and kept at once (per worker): each may be 20 MB in memory.
MEDIA_AT_ONCE = 2
# The payload Rasa's replies end with (rasa_plugins/router_channel.py), and what a withdrawal is
# kept as.
UNDERSTOOD = "understood"
WITHDRAWN = "withdraw"
# What a channel shows of a Rasa message; `custom` payloads (hand-off, forget me) stay here.
PERSON_KEYS = ("text", "buttons", "image")
# Failures of what the router depends on, not of the message: they never make it a dead letter.
OUTAGES = (RasaUnavailable, aiohttp.ClientError, RedisError, OSError)


class Router:
    """Handles entries of the inbound stream (see bot/consumer.py for how they arrive)."""

    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        quick_exit: QuickExit,
        media: MediaStore,
        channels: Mapping[str, ChannelSender],
        sounds: Voices,
    ) -> None:
        """Needs the store, a Rasa client, what counts as leaving quickly, where media are kept,
        the channels that fetch them, and the sounds of the texts a person can listen to."""
        self.store = store
        self.rasa = rasa
        self.quick_exit = quick_exit
        self.media = media
        self.channels = channels
        self.sounds = sounds
        self._long = asyncio.Semaphore(LONG_AT_ONCE)
        self._media = asyncio.Semaphore(MEDIA_AT_ONCE)

    async def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        """Handles one received message once, after the conversation's earlier ones."""
        message = Received.read(entry_id, fields)
        turn = await self.store.wait_turn(message.conv, message.seq, "in_done")
        if turn is Turn.LATER:
            raise NotYet
        text = str(self.store.sealer.open(message.sealed_text))
        if turn is Turn.GO:
            try:
                await self._handle(message, text)
                return
            except AlreadyAnswered:
                log.info("entry %s was answered by another worker meanwhile", entry_id)
        await self.store.finish_inbound(message, Outcome(text))
        if await self.store.forgetting(message.conv):
            await self._forget(message.conv)

    async def failed(self, entry_id: str, fields: dict[str, str], error: Exception) -> bool:
        """Counts a failure to handle a message (an outage of Rasa or Redis does not count); True
        when it became a dead letter, and then the person is told, with the emergency numbers: a
        message is never met with silence."""
        if isinstance(error, OUTAGES):
            return False
        if not await self.store.failed(INBOUND, ROUTERS, entry_id, fields, error):
            return False
        conversation = await self.store.conversation(fields.get("conv", ""))
        language = conversation.get("language", "")
        numbers = emergency(conversation.get("country") or None, language or None)
        await self.store.tell(
            fields["conv"], [{"text": f"{_say('not_handled', language)}\n{numbers}"}]
        )
        return True

    async def _forget(self, conv: str) -> None:
        """Calls its referrals back from partner hotlines, erases the conversation, and then its
        media (the sweep removes any left by a crash)."""
        await outbox.revoke_all(self.store, conv)
        await self.store.forget(conv)
        await self.media.forget(conv)

    async def _keep(self, message: Received) -> Kept:
        """The message's photo, recording or file fetched through its channel and kept
        (bot/media.py), or its location: what the transcript refers to; or why it was not kept."""
        if message.kind == "text" or not message.sealed_media:
            return Kept()
        sent: dict[str, Any] = self.store.sealer.open(message.sealed_media)
        if "stored" in sent or "refused" in sent:  # the web chat keeps an upload on receipt
            return Kept(sent.get("stored"), str(sent.get("refused") or ""))
        if "latitude" in sent:
            where = {"latitude": float(sent["latitude"]), "longitude": float(sent["longitude"])}
            return Kept({"kind": "location", **where})
        channel = self.channels.get(message.channel)
        if channel is None:
            return Kept()
        try:
            async with self._media:
                return Kept(await self.media.save(message.conv, await channel.fetch(sent)))
        except Refused as refused:
            return Kept(refused=refused.reason)

    async def _handle(self, message: Received, text: str) -> None:
        """Handles a message whose turn has come."""
        conv, seq = message.conv, message.seq
        conversation = await self.store.conversation(conv)
        if conversation.get("forgetting"):
            # "Forget me" was said and a crash came before the erasure: this message goes with it.
            await self._forget(conv)
            return
        language = conversation.get("language", "")
        state = State(conversation.get("state") or State.BOT)
        kept = await self._keep(message)
        if message.kind == "text" and self.quick_exit.asked(text):
            language = language or detect(text) or ""
            tally = _tally(message, text, conversation, language, None, None)
            await self._leave(message, text, state, language, tally)
            return
        listened = voices.asked(text) if message.kind == "text" else None
        if listened is not None:
            await self._listen(message, text, listened, language)
            return
        answer = referrals.ANSWER.match(text.strip()) if message.kind == "text" else None
        if answer and await self._consent(message, text, conversation, *answer.groups()):
            return
        if await self._phone(message, text, conversation):
            return
        if as_command(text) != FORGET and self._withdrawn(message, text, state, conversation):
            await self._withdraw(message, text, conversation)
            return
        if state in (State.WAITING, State.OPERATOR) and as_command(text) != FORGET:
            await self._handed_off(message, text, state, conversation, kept)
            return
        replies, handoff, screened, forget, understood = await self._answer(
            message, text, conversation, kept
        )
        spoken = _language_of(replies) or language
        if handoff is not None and conversation.get("danger_open"):
            # Danger said while waiting stays danger until an operator says otherwise.
            handoff = {**handoff, "risk": "immediate"}
        if handoff is not None and not await self.store.operators_online():
            replies.append({"text": no_operator(handoff.get("country"), spoken or None)})
        if not forget and spoken in LANGUAGES and (seq == 1 or not language):
            # The first reply in a language the person reads (after the picker, when the first
            # message said none), after the answer: emergency numbers never wait behind it.
            replies.extend(self._notice(message.channel, spoken))
        tally = _tally(message, text, conversation, spoken, handoff, screened)
        outcome = Outcome(
            text,
            replies,
            handoff,
            spoken,
            forget,
            tally=tally,
            understood=understood,
            media=kept.noted,
        )
        if forget:
            # Referrals called back and the photos and files removed first: the confirmation may
            # reach the person before the rest.
            await outbox.revoke_all(self.store, conv)
            await self.media.forget(conv)
        await self.store.finish_inbound(message, outcome)
        if forget:
            # Now, before the conversation's next message reaches Rasa again (its media went above).
            await self.store.forget(conv)

    async def _handed_off(
        self,
        message: Received,
        text: str,
        state: State,
        conversation: dict[str, str],
        kept: Kept,
    ) -> None:
        """A message while a person waits for an operator or talks with one: no dialogue, but
        understood, and kept with what was understood. Danger gets the emergency numbers at once
        and raises the hand-off (CONTRACT.md, "Hand-off")."""
        conv = message.conv
        language = conversation.get("language", "")
        # What was kept reaches the operator; what could not be is explained to the person.
        replies: list[dict[str, Any]] = []
        if kept.refused:
            replies.append({"text": _say(f"media_refused_{kept.refused}", language)})
        if message.kind != "text" and not text.strip():
            outcome = Outcome(text, replies, language=language, for_operator=True, media=kept.noted)
            await self.store.finish_inbound(message, outcome)
            return
        # A text, or the caption of a photo or file: understood as what the person says.
        understood = await self._understand(conv, text)
        language = understood["language"] or language
        if understood["danger"]:
            await self.store.raise_danger(conv, message.seq)
            numbers = emergency(conversation.get("country") or None, language or None)
            replies.append({"text": f"{_say('danger_marked', language)}\n{numbers}"})
        elif text.strip() == WITHDRAW and state is State.OPERATOR:
            replies.append({"text": _say("operator_closes", language)})
        outcome = Outcome(
            text,
            replies,
            None,
            language,
            for_operator=True,
            understood=understood,
            media=kept.noted,
        )
        await self.store.finish_inbound(message, outcome)

    async def _listen(self, message: Received, text: str, name: str, language: str) -> None:
        """Plays a text as a voice message, with the buttons that go with it; the assistant is not
        asked, so the question it asked is still the one to answer."""
        found = None
        if language in LANGUAGES:
            try:
                found = await self.sounds.sound(name, language, "m4a")
            except AudioError as error:
                log.warning("no sound for %s in %s: %s", name, language, error)
        buttons = voices.buttons_after(name, language) if language in LANGUAGES else []
        reply: dict[str, Any] = {"buttons": buttons} if buttons else {}
        if found is None:
            reply["text"] = _say("listen_missing", language)
        else:
            reply["listen"] = {
                "text": name,
                "language": language,
                "seconds": round(found.seconds, 3),
                "path": voices.path(name, language, found.version),
                "ogg": voices.path(name, language, found.version, "ogg"),
            }
        understood: Understood = {
            "intent": "listen",
            "topic": "",
            "danger": False,
            "language": language,
        }
        outcome = Outcome(text, [reply], None, language, understood=understood)
        await self.store.finish_inbound(message, outcome)

    async def _consent(
        self,
        message: Received,
        text: str,
        conversation: dict[str, str],
        referral_id: str,
        answer: str,
    ) -> bool:
        """A consent button under a referral's question: what would be sent, or the person's
        answer kept with the question they were shown (and an agreed referral due to be sent).
        The operator sees the press. False for a referral that is not this conversation's or was
        answered before: the press is then an ordinary message."""
        conv, language = message.conv, conversation.get("language", "")
        found = await self.store.referral(conv, referral_id)
        if found is None or found.state != referrals.ASKED or language not in LANGUAGES:
            return False
        if answer == "what":
            handoff = await self.store.handoff(conv)
            said = referral_words.what(found, conversation, handoff, language)
            replies = [{"text": said, "buttons": referral_words.buttons(referral_id, language)}]
        else:
            agreed = await self.store.consented(conv, referral_id, answer, found.asked)
            replies = [{"text": referral_words.answered(found, answer, language)}]
            if agreed is not None and answer == "agree":
                handoff = await self.store.handoff(conv)
                await outbox.send_referral(self.store, agreed, conversation, handoff)
                await self.store.await_phone(conv, referral_id)
                replies.append({"text": referral_words.ask_phone(found, language)})
        outcome = Outcome(text, replies, None, language, for_operator=True)
        await self.store.finish_inbound(message, outcome)
        return True

    async def _phone(self, message: Received, text: str, conversation: dict[str, str]) -> bool:
        """A phone number the person typed in just after agreeing to a referral: kept for the
        partner (and sent on, if the referral has left). Anything else is read as usual."""
        referral_id = conversation.get(referrals.AWAITED_PHONE, "")
        typed = text.strip()
        if not referral_id or message.kind != "text" or not referrals.PHONE.match(typed):
            return False
        found = await self.store.referral(message.conv, referral_id)
        language = conversation.get("language", "")
        if found is None or language not in LANGUAGES:
            return False
        given = await self.store.phone_given(found, typed)
        await outbox.send_phone(self.store, given)
        said = referral_words.phone_kept(found, typed, language)
        outcome = Outcome(text, [{"text": said}], None, language, for_operator=True)
        await self.store.finish_inbound(message, outcome)
        return True

    async def _with_listen(self, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The replies, the menu and each screening question with a 🔊 button when there is a
        sound for it in its language."""
        found = []
        for reply in replies:
            shown = voices.text_of(str(reply.get("text") or ""))
            if shown is not None and await self.sounds.playable(*shown):
                reply = {**reply, "buttons": [*reply.get("buttons", []), voices.button(*shown)]}
            found.append(reply)
        return found

    async def _understand(self, conv: str, text: str) -> Understood:
        """What the assistant's model understands of the message; if it cannot be reached, what
        the danger words and the script say (a person in danger is never met with silence)."""
        try:
            async with self._fair(text):
                found = await self.rasa.parse(conv, text)
        except (RasaUnavailable, aiohttp.ClientError) as error:
            log.warning("parse unavailable (%s): danger words only", type(error).__name__)
            return from_words(text)
        return {
            "intent": str(found.get("intent") or ""),
            "topic": str(found.get("topic") or ""),
            "danger": bool(found.get("danger")),
            "language": str(found.get("language") or ""),
        }

    def _withdrawn(
        self, message: Received, text: str, state: State, conversation: dict[str, str]
    ) -> bool:
        """Whether this message takes a waiting hand-off back (the button under the waiting
        message, or the words alone), or did so before a crash (a replay)."""
        if conversation.get("withdrawn_in") == str(message.seq):
            return True
        if state is not State.WAITING or message.kind != "text":
            return False
        return text.strip() == WITHDRAW or said_alone(text, "withdraw_words") is not None

    async def _withdraw(self, message: Received, text: str, conversation: dict[str, str]) -> None:
        """The person goes back to the assistant: the hand-off leaves the queue with a note for
        the operators, and the menu comes back."""
        conv, seq = message.conv, message.seq
        language = conversation.get("language") or detect(text) or ""
        since = float(conversation.get("waiting_since") or time.time())
        minutes = int((time.time() - since) // 60)
        texts = console_texts()["notes"]["withdrawn"]
        note = "\n".join(texts[lang].format(minutes=minutes) for lang in ("en", "th"))
        await self.store.withdraw(conv, seq, note)
        metadata = _metadata(message, language, conversation)
        menu = await self.rasa.send(conv, SHOW_MENU, message.entry_id, metadata)
        replies = [{"text": _say("withdrawn", language)}]
        replies += await self._with_listen([reply for reply in map(_for_person, menu) if reply])
        understood: Understood = {
            "intent": WITHDRAWN,
            "topic": "",
            "danger": False,
            "language": language,
        }
        outcome = Outcome(text, replies, None, language, understood=understood)
        await self.store.finish_inbound(message, outcome)

    def _fair(self, text: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """Long messages go to Rasa LONG_AT_ONCE at a time: each costs it several parses (its
        clauses are read for danger too), and a flood of them must not hold up everyone's short
        messages behind it."""
        return self._long if len(text) > LONG_TEXT else contextlib.nullcontext()

    async def _leave(
        self, message: Received, text: str, state: State, language: str, tally: counts.Tally
    ) -> None:
        """A quick exit: ends any hand-off with a note for the operators, and has the channel
        clear what it can (Telegram deletes the chat's messages and leaves a neutral one; LINE
        cannot, so the person is told how; the web page closes)."""
        if state in (State.WAITING, State.OPERATOR):
            notes = console_texts()["notes"]["left_quickly"]
            await self.store.left(message.conv, f"{notes['en']}\n{notes['th']}")
        channel = message.channel
        if channel == WEB:
            replies: list[dict[str, Any]] = [{"exit": True}]
        else:
            replies = [{"text": _say("exit_line" if channel == LINE else "exit_neutral", language)}]
        outcome = Outcome(text, replies, None, language, leave=True, tally=tally)
        await self.store.finish_inbound(message, outcome)

    def _notice(self, channel: str, language: str) -> list[dict[str, Any]]:
        """The first-contact notice, with Telegram's exit button under the input field."""
        days = max(1, round(self.store.ttl / 86400))
        replies: list[dict[str, Any]] = [
            {"text": text} for text in self.quick_exit.notice(channel, language, days)
        ]
        if channel == TELEGRAM:
            replies[-1]["exit_button"] = EXIT_BUTTON
        return replies

    async def _answer(
        self, message: Received, text: str, conversation: dict[str, str], kept: Kept
    ) -> tuple[
        list[dict[str, Any]],
        dict[str, Any] | None,
        dict[str, Any] | None,
        bool,
        Understood | None,
    ]:
        """The person's replies, and what the bot's custom payloads ask: a hand-off, a screening
        to count, forgetting the conversation; and what the assistant understood."""
        language = conversation.get("language") or detect(text) or ""
        about = [] if message.kind == "text" else [_about_media(kept, language)]
        if about and not text.strip():
            return about, None, None, False, None
        # A text, or the caption of a photo or file: the assistant answers it (danger in a
        # caption is danger), then says what becomes of the photo unless a person is on the way.
        text = as_command(text)
        notes = []
        if message.cut:
            notes.append({"text": _say("cut", detect(text) or language)})
        metadata = _metadata(message, language, conversation)
        async with self._fair(text):
            replies = await self.rasa.send(message.conv, text, message.entry_id, metadata)
        payloads = [r["custom"] for r in replies if isinstance(r.get("custom"), dict)]
        handoff = next((p[HANDOFF] for p in payloads if HANDOFF in p), None)
        screened = next((p[SCREENED] for p in payloads if SCREENED in p), None)
        forget = any(p.get("forget_me") for p in payloads)
        understood = next((p[UNDERSTOOD] for p in payloads if UNDERSTOOD in p), None)
        shown = await self._with_listen([reply for reply in map(_for_person, replies) if reply])
        # Two turns asked for while the language is unknown both ask for it: once is enough.
        shown = [r for i, r in enumerate(shown) if i == 0 or r != shown[i - 1]]
        if handoff is not None or forget:
            about = []
        return notes + shown + about, handoff, screened, forget, understood


@dataclass(frozen=True)
class Kept:
    """What became of a message's media: the transcript's reference to it, or why not kept."""

    media: dict[str, Any] | None = None
    # "size" or "type" (bot/media.py's Refused), '' when kept or when there was nothing to keep.
    refused: str = ""

    @property
    def noted(self) -> dict[str, Any] | None:
        """What the transcript keeps of it: the reference, or that a file was not kept and why
        (the operator sees that something was sent)."""
        if self.refused:
            return {"kind": "refused", "reason": self.refused}
        return self.media


def _about_media(kept: Kept, language: str) -> dict[str, Any]:
    """What the assistant says to a photo, recording, file or location: it cannot look at it but a
    person can (or why it was not kept), with the button that asks for one; to a sticker or a poll,
    that it reads words."""
    if kept.refused:
        key = f"media_refused_{kept.refused}"
    elif kept.media is None:
        return {"text": _say("non_text", language)}
    else:
        key = "location_received" if kept.media["kind"] == "location" else "media_received"
    titles = gateway_texts()["talk_to_person"]
    shown = [language] if language in LANGUAGES else list(LANGUAGES)
    buttons = [{"title": titles[lang], "payload": REQUEST_HUMAN} for lang in shown]
    return {"text": _say(key, language), "buttons": buttons}


def no_operator(country: str | None, language: str | None) -> str:
    """Tells a person that nobody is online to take the hand-off, with the lines to call."""
    return f"{_say('no_operator', language or '')}\n{while_waiting(country, language)}"


def _tally(
    message: Received,
    text: str,
    conversation: dict[str, str],
    language: str,
    handoff: dict[str, Any] | None,
    screened: dict[str, Any] | None,
) -> counts.Tally:
    """What a handled message counts for the reports: a screening when it ends, a hand-off when
    one is asked for, and its conversation if not counted yet. Adding the LINE account opens no
    conversation: who comes through an NGO's pre-filled link may add the account first, and only
    their first message carries the code."""
    referral = conversation.get("referral", "")
    known = {"channel": message.channel, "language": language}
    counted = []
    if screened is not None:
        counted += counts.fields("screenings", referral, known | _given(screened))
    if handoff is not None:
        counted += counts.fields("handoffs", referral, known | _given(handoff))
    followed = message.channel == LINE and text == FOLLOWED
    opening = [] if followed else counts.fields("conversations", referral, known)
    return counts.Tally(referral, tuple(counted), tuple(opening))


def _metadata(message: Received, language: str, conversation: dict[str, str]) -> dict[str, str]:
    """What Rasa is told with a message: its channel, the language, the NGO it came through."""
    return {
        "channel": message.channel,
        "language": language,
        "referral": conversation.get("referral", ""),
    }


def _given(payload: dict[str, Any]) -> dict[str, str]:
    """A payload's values that are set, as text."""
    return {key: str(value) for key, value in payload.items() if isinstance(value, str) and value}


def _for_person(reply: dict[str, Any]) -> dict[str, Any]:
    """What of a bot message goes to the person: text and buttons, never the router's payloads."""
    return {key: reply[key] for key in PERSON_KEYS if reply.get(key)}


def _say(key: str, language: str) -> str:
    """A gateway text in the language, or in all three when the language is not known."""
    texts = gateway_texts()[key]
    if language in LANGUAGES:
        return texts[language]
    return "\n\n".join(texts[lang] for lang in LANGUAGES)


def _language_of(replies: list[dict[str, Any]]) -> str:
    """The language the bot answered in (its replies follow the conversation's language; the
    language picker, written in all three, says none)."""
    for reply in reversed(replies):
        payloads = [str(b.get("payload", "")) for b in reply.get("buttons") or []]
        if any(p.startswith(CHOOSE_LANGUAGE) for p in payloads):
            continue
        found = detect(str(reply.get("text") or ""))
        if found:
            return found
    return ""
