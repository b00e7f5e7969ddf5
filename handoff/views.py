"""What the console's pages show, shaped from the store: queue rows, a conversation's summary,
answers and transcript in the operator's language, and the texts sent to the person."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bot.store import State, Store
from handoff.accounts import Account
from handoff.translation import LAST_MESSAGES, Translator
from hotline.content import (
    PHRASE_GROUPS,
    canned_replies,
    console_texts,
    country_names,
    gateway_texts,
    screening,
)
from hotline.language import LANGUAGES, detect


class Texts:
    """The console's words in one language (en or th): `t("claim")`, `t.of("risks", "high")`."""

    def __init__(self, language: str) -> None:
        """English unless the language is Thai."""
        self.language = language if language in ("en", "th") else "en"

    def __call__(self, key: str) -> str:
        """A word of the interface."""
        return self.of("ui", key)

    def of(self, section: str, key: str | None) -> str:
        """A word of a section (risks, reasons, answers, languages, channels, actions)."""
        texts = console_texts()[section].get(str(key))
        return texts[self.language] if texts else str(key or "—")

    def country(self, code: str | None) -> str:
        """A country's name."""
        names = country_names().get(str(code))
        return names.get(self.language, names["en"]) if names else "—"

    def question(self, slot: str) -> str:
        """A screening question as the operator reads it."""
        for question in screening().questions:
            if question.slot == slot:
                return question.text.get(self.language, question.text["en"])
        return slot

    def gloss(self, understood: dict[str, Any] | None) -> str:
        """What the assistant understood of a person's message, in the operator's language."""
        if not understood:
            return ""
        if understood.get("danger"):
            return self.of("understood", "in_danger")
        if understood.get("topic"):
            return self.of("topics", understood["topic"])
        if not understood.get("intent"):
            return self.of("understood", "unread")
        return self.of("understood", understood["intent"])

    def canned(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The phrasebook by group: (group's name, [(id, title)])."""
        return [
            (
                self.of("phrase_groups", group),
                [(r.id, r.title[self.language]) for r in canned_replies() if r.group == group],
            )
            for group in PHRASE_GROUPS
        ]

    def minutes(self, seconds: float | None) -> str:
        """A duration as whole minutes."""
        if seconds is None:
            return "—"
        return f"{int(seconds // 60)} {self('minutes')}"

    def clock(self, at: float | str) -> str:
        """A time of day (the machine's time zone)."""
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(at)))


@dataclass(frozen=True)
class Row:
    """A conversation as the queue lists it."""

    conv: str
    risk: str
    reason: str
    language: str
    country: str | None
    channel: str
    referral: str
    waiting_seconds: float | None
    idle_seconds: float | None
    operator: str
    # Where danger was said while handed off ("waiting", "operator"), when, and whether an
    # operator has seen to it yet.
    danger_in: str
    danger_at: float | None
    danger_open: bool

    @property
    def urgent(self) -> bool:
        """Whether the queue marks it."""
        return self.risk in ("immediate", "high")


@dataclass(frozen=True)
class Preview:
    """A typed reply, machine-translated for the operator to check before sending it."""

    typed: str
    translated: str | None
    back: str | None


@dataclass(frozen=True)
class ConversationView:
    """Everything the conversation page shows."""

    row: Row
    state: State
    waited_seconds: float | None
    answers: list[tuple[str, str]]
    transcript: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    can_claim: bool
    can_act: bool
    can_set_risk: bool
    # Machine translations of the person's messages into the operator's language, by the
    # message's place in the transcript (only with TRANSLATE_URL set).
    translations: dict[int, str | None]


def _row(conv: str, found: dict[str, str], now: float) -> Row:
    """A queue row from the conversation's hash alone (nothing to decrypt: a queue of hundreds
    renders fast)."""
    since, active = found.get("waiting_since"), found.get("active")
    return Row(
        conv=conv,
        risk=found.get("risk") or "unknown",
        reason=found.get("reason", ""),
        language=found.get("language", ""),
        country=found.get("country") or None,
        channel=found.get("channel", ""),
        referral=found.get("referral", ""),
        waiting_seconds=now - float(since) if since else None,
        idle_seconds=now - float(active) if active else None,
        operator=found.get("operator", ""),
        danger_in=found.get("danger_in", ""),
        danger_at=float(found["danger_at"]) if found.get("danger_at") else None,
        danger_open=bool(found.get("danger_open")),
    )


def queue_rows(found: list[tuple[str, dict[str, str]]], now: float) -> list[Row]:
    """Rows for conversations with their hashes, in the order given."""
    return [_row(conv, fields, now) for conv, fields in found]


async def conversation_view(
    store: Store, conv: str, account: Account, translator: Translator | None = None
) -> ConversationView | None:
    """The conversation page's content, with machine translations when a translator is given;
    None when the conversation is gone."""
    found = await store.conversation(conv)
    if not found.get("channel"):
        return None
    row = _row(conv, found, time.time())
    state = State(found.get("state") or State.BOT)
    handoff = await store.handoff(conv)
    answers = [(slot, str(answer)) for slot, answer in (handoff.get("answers") or {}).items()]
    holder = found.get("operator", "")
    waited = float(found["waited"]) if found.get("waited") else None
    transcript = with_pressed_buttons(await store.transcript(conv))
    translations = await _translations(transcript, account.language, translator)
    return ConversationView(
        row=row,
        state=state,
        waited_seconds=waited,
        answers=answers,
        transcript=transcript,
        notes=await store.notes(conv),
        can_claim=state is not State.OPERATOR,
        can_act=state is State.OPERATOR and (holder == account.name or account.supervisor),
        can_set_risk=(state is State.OPERATOR and holder == account.name)
        or (state in (State.WAITING, State.OPERATOR) and account.supervisor),
        translations=translations,
    )


async def _translations(
    transcript: list[dict[str, Any]], target: str, translator: Translator | None
) -> dict[int, str | None]:
    """The person's last typed messages in the operator's language (None where the server could
    not translate one); nothing without a translator or for a language the operator reads."""
    if translator is None:
        return {}
    wanted: list[tuple[int, str, str]] = []
    for index, line in enumerate(transcript):
        text = str(line.get("text") or "")
        if line.get("from") != "person" or line.get("pressed") or text.startswith("/"):
            continue
        source = (line.get("understood") or {}).get("language") or detect(text) or ""
        if text.strip() and source and source != target:
            wanted.append((index, text, source))
    wanted = wanted[-LAST_MESSAGES:]
    found = await asyncio.gather(
        *(translator.translate(text, source, target) for _, text, source in wanted)
    )
    return {index: text for (index, _, _), text in zip(wanted, found, strict=True)}


def with_pressed_buttons(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The transcript, where a person's message is a button of the bot's message before it marked
    with that button's title (`pressed`), so the operator reads "[Yes]" and not "/affirm"."""
    shown: list[dict[str, Any]] = []
    buttons: dict[str, str] = {}
    for line in transcript:
        if line.get("from") == "person" and line.get("text") in buttons:
            line = {**line, "pressed": buttons[line["text"]]}
        if line.get("from") == "bot":
            buttons = {
                str(b.get("payload")): str(b.get("title"))
                for reply in line.get("replies", [])
                for b in reply.get("buttons") or []
            }
        elif line.get("from") == "operator" and line.get("buttons"):
            buttons = {str(b.get("payload")): str(b.get("title")) for b in line["buttons"]}
        shown.append(line)
    return shown


def reply_text(typed: str, canned: str, language: str, closing: bool = False) -> str:
    """What to send the person: the typed text as it is; else the ready-made reply (or the closing
    words) in their language, or in all three when their language is not known."""
    if typed.strip():
        return typed.strip()[:4000]
    if closing:
        texts = gateway_texts()["handoff_closed"]
    else:
        chosen = next((reply for reply in canned_replies() if reply.id == canned), None)
        if chosen is None:
            return ""
        texts = chosen.text
    if language in LANGUAGES:
        return texts[language]
    return "\n\n".join(texts[lang] for lang in LANGUAGES)
