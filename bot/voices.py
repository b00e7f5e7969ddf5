"""Listening instead of reading (🔊): the menu and each screening question, played as a voice
message in the person's language. The sound is a supervisor's recording of the text as it now
reads (who recorded it and when it was checked kept with it, like every content fact), else
speech synthesis (Thai and Vietnamese, marked as synthetic in the console), else none: Khmer
plays only when recorded, and the console lists what is missing.

Sounds lie sealed in the media store's storage under `voices/`, each in both forms the channels
play (bot/audio.py): OGG Opus for Telegram, M4A for LINE and browsers."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bot import audio
from bot.media_storage import Storage
from bot.store import VOICES
from hotline.content import gateway_texts, screening, turns
from hotline.language import LANGUAGES
from hotline.screening import answer_buttons, choices_of
from hotline.sealer import Sealer

# What the 🔊 button sends; the router plays the text instead of asking the assistant.
LISTEN = "/listen"
ASKED = re.compile(r'^/listen\{"text":"([a-z0-9_]{1,40})"\}$')
MENU = "menu"
# A screening question as the assistant asks it: "3/9. <question>".
NUMBERED = re.compile(r"^\d+/\d+\. ")
FOLDER = "voices"
PATH = "/voices"
# Sounds made at once by one process (each runs espeak-ng and ffmpeg).
MADE_AT_ONCE = 1


@dataclass(frozen=True)
class Sound:
    """One text's sound in one form, with how long it plays."""

    data: bytes
    seconds: float
    version: str


@dataclass(frozen=True)
class Voice:
    """What the console shows of one text in one language: its words and where its sound comes
    from ("recorded", "synthetic" or "missing"); a recording of older words is "outdated" and
    not played."""

    text: str
    language: str
    words: str
    source: str
    recorded_by: str = ""
    checked: str = ""
    outdated: bool = False


def texts() -> dict[str, dict[str, str]]:
    """The texts a person can listen to, by name: the menu, then the screening questions."""
    found = {MENU: dict(turns().turns["utter_menu"].text)}
    for question in screening().questions:
        found[question.slot] = dict(question.text)
    return found


def asked(text: str) -> str | None:
    """The text a 🔊 button asks to hear, when `text` is what one sends."""
    match = ASKED.match(text.strip())
    return match.group(1) if match and match.group(1) in texts() else None


def text_of(shown: str) -> tuple[str, str] | None:
    """Which listenable text (and in which language) a reply shows, if any."""
    words = NUMBERED.sub("", shown, count=1)
    for name, by_language in texts().items():
        for language in LANGUAGES:
            if by_language.get(language) == (shown if name == MENU else words):
                return name, language
    return None


def button(name: str, language: str) -> dict[str, str]:
    """The 🔊 button for a text."""
    payload = LISTEN + json.dumps({"text": name}, separators=(",", ":"))
    return {"title": gateway_texts()["listen"][language], "payload": payload}


def buttons_after(name: str, language: str) -> list[dict[str, str]]:
    """The buttons that go with the sound: a question's answers (a person answers by buttons after
    listening), or the menu's."""
    if name == MENU:
        return [
            {"title": b.title[language], "payload": b.payload}
            for b in turns().turns["utter_menu"].buttons
        ]
    return answer_buttons(language, choices_of(name))


def path(name: str, language: str, version: str, form: str = "m4a") -> str:
    """Where the web process serves a text's sound (M4A for LINE; browsers get OGG Opus first,
    as open builds of Chromium play no AAC); the version changes with the recording, so a cached
    copy is never an older one."""
    return f"{PATH}/{name}/{language}.{form}?v={version}"


def _digest(words: str) -> str:
    return hashlib.sha256(words.encode()).hexdigest()[:16]


class Voices:
    """The sounds of the listenable texts: recordings, and speech made when there is none."""

    def __init__(self, redis: aioredis.Redis, storage: Storage, sealer: Sealer) -> None:
        """Keeps the recordings' facts in Redis and the sounds, sealed, in `storage`."""
        self.redis = redis
        self.storage = storage
        self.sealer = sealer
        self._making = asyncio.Semaphore(MADE_AT_ONCE)

    async def playable(self, name: str, language: str) -> bool:
        """Whether the text has a sound in the language (a current recording, or speech)."""
        recorded = await self._recorded(name, language)
        return recorded is not None or audio.can_speak(language)

    async def sound(self, name: str, language: str, form: str) -> Sound | None:
        """The text's sound in `form` ("ogg" or "m4a"): its current recording, else speech made
        now (and kept); None when there is neither (Khmer not recorded, or no espeak-ng)."""
        words = texts().get(name, {}).get(language)
        if words is None or form not in audio.FORMS:
            return None
        recorded = await self._recorded(name, language)
        if recorded is not None:
            return await self._read(name, language, recorded["version"], form)
        if not audio.can_speak(language):
            return None
        version = "s" + _digest(words)
        found = await self._read(name, language, version, form)
        if found is not None:
            return found
        async with self._making:
            found = await self._read(name, language, version, form)
            if found is None:
                await self._keep(name, language, version, await audio.speak(words, language))
                found = await self._read(name, language, version, form)
        return found

    async def record(
        self, name: str, language: str, data: bytes, recorded_by: str, checked: dt.date
    ) -> None:
        """Keeps a supervisor's recording of the text as it now reads, replacing any earlier one;
        AudioError when it is not a sound ffmpeg can read."""
        words = texts()[name][language]
        version = "r" + secrets.token_hex(8)
        async with self._making:
            await self._keep(name, language, version, data)
        facts = {
            "version": version,
            "digest": _digest(words),
            "recorded_by": recorded_by,
            "checked": checked.isoformat(),
        }
        earlier = await self._facts(name, language)
        await self.redis.hset(VOICES, f"{name}:{language}", json.dumps(facts))
        if earlier is not None:
            await self._drop(name, language, str(earlier["version"]))

    async def remove(self, name: str, language: str) -> bool:
        """Removes a text's recording (speech, where there is any, plays instead)."""
        earlier = await self._facts(name, language)
        if earlier is None:
            return False
        await self.redis.hdel(VOICES, f"{name}:{language}")
        await self._drop(name, language, str(earlier["version"]))
        return True

    async def overview(self) -> list[Voice]:
        """Every listenable text in every language, with where its sound comes from."""
        kept = await self.redis.hgetall(VOICES)
        found = []
        for name, by_language in texts().items():
            for language in LANGUAGES:
                words = by_language[language]
                raw = kept.get(f"{name}:{language}")
                facts: dict[str, Any] = json.loads(raw) if raw else {}
                outdated = bool(facts) and facts.get("digest") != _digest(words)
                if facts and not outdated:
                    source = "recorded"
                elif audio.can_speak(language):
                    source = "synthetic"
                else:
                    source = "missing"
                found.append(
                    Voice(
                        text=name,
                        language=language,
                        words=words,
                        source=source,
                        recorded_by=str(facts.get("recorded_by") or ""),
                        checked=str(facts.get("checked") or ""),
                        outdated=outdated,
                    )
                )
        return found

    async def _facts(self, name: str, language: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(VOICES, f"{name}:{language}")
        return json.loads(raw) if raw else None

    async def _recorded(self, name: str, language: str) -> dict[str, Any] | None:
        """The recording's facts when it reads the text as it is now (not an older wording)."""
        facts = await self._facts(name, language)
        words = texts().get(name, {}).get(language)
        if facts is None or words is None or facts.get("digest") != _digest(words):
            return None
        return facts

    async def _keep(self, name: str, language: str, version: str, data: bytes) -> None:
        """Converts a sound into every form and stores each with its length."""
        for form in audio.FORMS:
            made = await audio.convert(data, form)
            length = await audio.seconds(made)
            sealed = self.sealer.seal_bytes(f"{length:.3f}".encode() + b"\n" + made)
            await asyncio.to_thread(self.storage.put, _key(name, language, version, form), sealed)

    async def _read(self, name: str, language: str, version: str, form: str) -> Sound | None:
        sealed = await asyncio.to_thread(self.storage.get, _key(name, language, version, form))
        if sealed is None:
            return None
        length, _, data = self.sealer.open_bytes(sealed).partition(b"\n")
        return Sound(data, float(length), version)

    async def _drop(self, name: str, language: str, version: str) -> None:
        for form in audio.FORMS:
            await asyncio.to_thread(self.storage.delete, _key(name, language, version, form))


def _key(name: str, language: str, version: str, form: str) -> str:
    return f"{FOLDER}/{name}-{language}-{version}-{form}"
