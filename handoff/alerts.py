"""Which open consoles a hand-off event reaches and which it alerts (a tone, a notification, the
tab's title), for the console's live stream.

- A new hand-off reaches those whose queue lists it (an NGO's goes to its team first while one of
  it is online: bot/ngos.py); an urgent one alerts the online operators who read its language,
  and everyone it reaches when none of them is online.
- Danger said while handed off alerts every online operator while the hand-off waits, and its
  holder and the supervisors once someone holds it (CONTRACT.md, "Hand-off").

What this needs of Redis is read once per event in each web process, however many consoles are
open in it: fifty open consoles cost one read of the conversation, the teams and who is online,
not fifty.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from bot import ngos
from bot.store import Store
from handoff import accounts
from handoff.accounts import Account

URGENT = ("immediate", "high")
# Events whose facts are kept for the consoles that have not read them yet.
KEPT_EVENTS = 512


@dataclass(frozen=True)
class Facts:
    """What decides whom a queued hand-off reaches, as it was when its event was read."""

    conversation: dict[str, str]
    teams: dict[str, tuple[str, ...]]
    online: set[str]
    readers: dict[str, list[str]]


class Alerts:
    """Decides, per console, what a live event does; shares the reads between consoles."""

    def __init__(self, store: Store) -> None:
        """Reads from the store; keeps the facts of the last KEPT_EVENTS events."""
        self.store = store
        self._facts: OrderedDict[str, asyncio.Future[Facts]] = OrderedDict()

    async def facts(self, entry_id: str, conv: str) -> Facts:
        """The facts of one event, read by the first console that asks."""
        found = self._facts.get(entry_id)
        if found is not None and found.done() and (found.cancelled() or found.exception()):
            found = None  # a failed read (Redis away) is tried again, not kept
        if found is None:
            found = asyncio.ensure_future(self._read(conv))
            self._facts[entry_id] = found
            while len(self._facts) > KEPT_EVENTS:
                self._facts.popitem(last=False)
        return await asyncio.shield(found)

    async def _read(self, conv: str) -> Facts:
        online = await self.store.who_is_online()
        return Facts(
            conversation=await self.store.conversation(conv),
            teams=await ngos.teams(self.store.redis),
            online=online,
            readers=await accounts.who_reads(self.store.redis, online),
        )

    async def queued(self, entry_id: str, fields: dict[str, str], account: Account) -> bool | None:
        """For a new hand-off: None when it is not in this user's queue, else whether it alerts
        this user."""
        conv = fields["conv"]
        facts = await self.facts(entry_id, conv)
        waiting = [(conv, facts.conversation)]
        if not ngos.route(waiting, account.name, account.supervisor, facts.teams, facts.online):
            return None
        readers = facts.readers.get(facts.conversation.get("language", ""))
        reaches = not readers or account.name in readers
        return reaches and fields.get("risk") in URGENT


def danger_alerts(fields: dict[str, str], account: Account) -> bool:
    """Whether danger said while handed off alerts this user."""
    holder = fields.get("holder", "")
    return not holder or holder == account.name or account.supervisor
