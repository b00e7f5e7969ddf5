"""The partner registry (supervisors keep it in the console): organisations in the people's home
countries that a case can be referred to, what each offers and how to reach it. A partner running
this project is reached over HTTPS at its URL, its envelopes checked against the public key pinned
here (bot/envelopes.py); any other gets a printable or e-mailed referral."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from bot import envelopes
from bot.ngos import HTTPS_URL
from bot.referral_words import OFFERS
from bot.store import PARTNERS

ID = re.compile(r"^[a-z0-9-]{1,40}$")
# The countries a partner works in (the project's three), and the languages it may speak.
COUNTRIES = ("th", "vn", "kh")
LANGUAGES = ("th", "vi", "km", "en")
NAME_LENGTH = 100
CONTACT_LENGTH = 300


class InvalidPartner(ValueError):
    """A field of a partner is wrong; the message says which and why, for the supervisor."""


@dataclass(frozen=True)
class Partner:
    """One partner organisation."""

    id: str
    name: str
    country: str
    languages: tuple[str, ...]
    offers: tuple[str, ...]
    contact: str = ""
    # A hotline running this project: where its inbox is, and its pinned public key.
    url: str = ""
    public_key: str = ""

    @property
    def hotline(self) -> bool:
        """Whether referrals reach it over HTTPS (else: printed or e-mailed)."""
        return bool(self.url and self.public_key)


def parse(
    id: str,
    name: str,
    country: str,
    languages: list[str],
    offers: list[str],
    contact: str,
    url: str,
    public_key: str,
    local: bool = False,
) -> Partner:
    """A partner from a form's fields; InvalidPartner names the first wrong one. `local` lets the
    URL be http://127.0.0.1 (two hotlines on one machine, for `make run` and the tests)."""
    id, name, contact, url, key = (
        id.strip().lower(),
        " ".join(name.split()),
        contact.strip(),
        url.strip().rstrip("/"),
        public_key.strip(),
    )
    if not ID.match(id):
        raise InvalidPartner("id: 1 to 40 lower-case letters, digits or '-'")
    if not name or len(name) > NAME_LENGTH:
        raise InvalidPartner(f"name: 1 to {NAME_LENGTH} characters")
    if country not in COUNTRIES:
        raise InvalidPartner("country: Thailand, Vietnam or Cambodia")
    spoken = tuple(x for x in LANGUAGES if x in languages)
    if not spoken:
        raise InvalidPartner("languages: choose at least one")
    offered = tuple(x for x in OFFERS if x in offers)
    if not offered:
        raise InvalidPartner("offers: choose at least one")
    if len(contact) > CONTACT_LENGTH:
        raise InvalidPartner(f"contact: at most {CONTACT_LENGTH} characters")
    if bool(url) != bool(key):
        raise InvalidPartner("a hotline running this project needs both its address and its key")
    if url and not (HTTPS_URL.match(url) or (local and url.startswith("http://127.0.0.1:"))):
        raise InvalidPartner("address: https://… (the partner hotline's PUBLIC_URL)")
    if key and not envelopes.valid_public_key(key):
        raise InvalidPartner("public key: paste what its `handoff.admin referral-key` printed")
    if not url and not contact:
        raise InvalidPartner("contact: how to send it a referral (e-mail, phone, address)")
    return Partner(id, name, country, spoken, offered, contact, url, key)


async def save(redis: aioredis.Redis, partner: Partner) -> None:
    """Adds or replaces a partner."""
    await redis.hset(PARTNERS, partner.id, json.dumps(asdict(partner)))


async def find(redis: aioredis.Redis, partner_id: str) -> Partner | None:
    """The partner with this id, if registered."""
    raw = await redis.hget(PARTNERS, partner_id)
    return _partner(raw) if raw else None


async def everyone(redis: aioredis.Redis) -> list[Partner]:
    """Every partner, by country then name."""
    found = [_partner(raw) for raw in (await redis.hgetall(PARTNERS)).values()]
    return sorted(found, key=lambda p: (COUNTRIES.index(p.country), p.name.lower()))


async def pinned(redis: aioredis.Redis) -> dict[str, Partner]:
    """The partner hotlines by their pinned public key (whose envelopes are opened)."""
    return {p.public_key: p for p in await everyone(redis) if p.hotline}


def _partner(raw: str) -> Partner:
    data = json.loads(raw)
    data["languages"] = tuple(data["languages"])
    data["offers"] = tuple(data["offers"])
    return Partner(**data)
