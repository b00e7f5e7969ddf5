"""The NGO registry: the organisations that share the service, each with a referral code (what
their links carry), languages, a contact and their own operator team. Kept by supervisors in the
console; read when a hand-off is routed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.store import NGOS, USERS, ngo_key
from hotline.language import LANGUAGES

# What a Telegram start parameter and a LINE "ref:" may carry (bot/telegram_channel.py REFERRAL).
CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_LENGTH = 100
CONTACT_LENGTH = 200


class InvalidNGO(ValueError):
    """A field of an NGO is wrong; the message says which and why, for the supervisor."""


@dataclass(frozen=True)
class NGO:
    """One organisation of the registry."""

    code: str
    name: str
    languages: tuple[str, ...]
    contact: str = ""
    team: tuple[str, ...] = ()


def parse(code: str, name: str, languages: list[str], contact: str, team: str) -> NGO:
    """An NGO from a form's fields; InvalidNGO names the first wrong one."""
    code, name, contact = code.strip(), " ".join(name.split()), contact.strip()
    if not CODE.match(code):
        raise InvalidNGO("code: 1 to 64 letters, digits, '-' or '_' (it goes into links)")
    if not name or len(name) > NAME_LENGTH:
        raise InvalidNGO(f"name: 1 to {NAME_LENGTH} characters")
    chosen = tuple(lang for lang in LANGUAGES if lang in languages)
    if not chosen:
        raise InvalidNGO("languages: choose at least one of th, vi, km")
    if len(contact) > CONTACT_LENGTH:
        raise InvalidNGO(f"contact: at most {CONTACT_LENGTH} characters")
    members = tuple(sorted({m for m in re.split(r"[\s,]+", team) if m}))
    return NGO(code, name, chosen, contact, members)


async def save(redis: aioredis.Redis, ngo: NGO) -> None:
    """Adds or replaces the NGO; InvalidNGO when its team names someone without an account."""
    unknown = [m for m in ngo.team if not await redis.sismember(USERS, m)]
    if unknown:
        raise InvalidNGO(f"team: no console account named {', '.join(unknown)}")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(ngo_key(ngo.code))
        pipe.hset(
            ngo_key(ngo.code),
            mapping={
                "name": ngo.name,
                "languages": ",".join(ngo.languages),
                "contact": ngo.contact,
                "team": ",".join(ngo.team),
            },
        )
        pipe.sadd(NGOS, ngo.code)
        await pipe.execute()


async def find(redis: aioredis.Redis, code: str) -> NGO | None:
    """The NGO with this code, if registered."""
    found: dict[str, str] = await redis.hgetall(ngo_key(code))
    if not found:
        return None
    return NGO(
        code,
        found.get("name", ""),
        tuple(x for x in found.get("languages", "").split(",") if x),
        found.get("contact", ""),
        tuple(x for x in found.get("team", "").split(",") if x),
    )


async def everyone(redis: aioredis.Redis) -> list[NGO]:
    """Every registered NGO, by code."""
    found = [await find(redis, code) for code in sorted(await redis.smembers(NGOS))]
    return [ngo for ngo in found if ngo is not None]
