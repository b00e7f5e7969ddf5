"""The NGO registry: the organisations that share the service, each with a referral code (what
their links carry), languages, a contact, their own operator team and the sites that show the chat
widget. Kept by supervisors in the console; read when a hand-off is routed and when the chat page
is served."""

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
MAX_SITES = 5
# An https address whose host a browser and Python read alike: no user part, no backslash, nothing
# but a path, query or fragment after the host and port.
HTTPS_URL = re.compile(
    r"^(https://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"(?::[0-9]{1,5})?)([/?#][^\x00-\x20\x7f\\]*)?$",
    re.IGNORECASE,
)


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
    sites: tuple[str, ...] = ()


def origin(url: str) -> str:
    """The origin of an https address ("https://host[:port]", lower case, without :443); "" for
    anything else."""
    found = HTTPS_URL.match(url)
    return found.group(1).lower().removesuffix(":443") if found else ""


def parse(code: str, name: str, languages: list[str], contact: str, team: str, sites: str) -> NGO:
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
    return NGO(code, name, chosen, contact, members, _sites(sites))


def _sites(typed: str) -> tuple[str, ...]:
    """The sites that may show the widget: https origins, each once, in the order typed."""
    sites: list[str] = []
    for site in (s for s in re.split(r"[\s,]+", typed) if s):
        found = HTTPS_URL.match(site)
        if not found:
            raise InvalidNGO(f"sites: {site} is not an https address such as https://example.org")
        if (found.group(2) or "/") != "/":
            raise InvalidNGO(f"sites: {site}: the site's address only, without a path")
        if origin(site) not in sites:
            sites.append(origin(site))
    if len(sites) > MAX_SITES:
        raise InvalidNGO(f"sites: at most {MAX_SITES}")
    return tuple(sites)


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
                "sites": ",".join(ngo.sites),
            },
        )
        pipe.sadd(NGOS, ngo.code)
        await pipe.execute()


async def find(redis: aioredis.Redis, code: str) -> NGO | None:
    """The NGO with this code, if registered."""
    return _ngo(code, await redis.hgetall(ngo_key(code)))


def _ngo(code: str, found: dict[str, str]) -> NGO | None:
    if not found:
        return None
    return NGO(
        code,
        found.get("name", ""),
        tuple(x for x in found.get("languages", "").split(",") if x),
        found.get("contact", ""),
        tuple(x for x in found.get("team", "").split(",") if x),
        tuple(x for x in found.get("sites", "").split(",") if x),
    )


async def everyone(redis: aioredis.Redis) -> list[NGO]:
    """Every registered NGO, by code (one round trip for their hashes)."""
    codes = sorted(await redis.smembers(NGOS))
    async with redis.pipeline(transaction=False) as pipe:
        for code in codes:
            pipe.hgetall(ngo_key(code))
        hashes: list[dict[str, str]] = await pipe.execute()
    found = [_ngo(code, fields) for code, fields in zip(codes, hashes, strict=True)]
    return [ngo for ngo in found if ngo is not None]


def route(
    waiting: list[tuple[str, dict[str, str]]],
    user: str,
    supervisor: bool,
    teams: dict[str, tuple[str, ...]],
    online: set[str],
) -> list[tuple[str, dict[str, str]]]:
    """The queue as one operator sees it. A conversation that came through an NGO's link goes
    first to that NGO's team while one of its operators is online: listed first for the team,
    not at all for other operators. Otherwise it is in the general queue, and so is one whose
    person said they are in danger while waiting (every online operator is alerted to it).
    Supervisors see every conversation; order is kept within each part (most urgent, then
    longest waiting)."""
    mine, general = [], []
    for conv, found in waiting:
        team = teams.get(found.get("referral", ""), ())
        if team and online.intersection(team) and not found.get("danger_open"):
            if user in team:
                mine.append((conv, found))
            elif supervisor:
                general.append((conv, found))
        else:
            general.append((conv, found))
    return mine + general


async def teams(redis: aioredis.Redis) -> dict[str, tuple[str, ...]]:
    """Each NGO's operator team, by code."""
    return {ngo.code: ngo.team for ngo in await everyone(redis) if ngo.team}
