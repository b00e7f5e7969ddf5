"""Console accounts: operators and supervisors, passwords hashed with argon2."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store import USERS, user_key
from hotline.language import LANGUAGES

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,31}$"
MIN_PASSWORD = 12
CONSOLE_LANGUAGES = ("en", "th")
_hasher = PasswordHasher()
# Checked when the user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class Role(StrEnum):
    """What an account may do: supervisors also read the audit log and act on any conversation."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"


class AccountError(ValueError):
    """An account cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    """A console user."""

    name: str
    role: Role
    language: str
    # The languages of the people this operator can read (th, vi, km): hand-offs in them reach
    # this operator first.
    reads: tuple[str, ...] = ()

    @property
    def supervisor(self) -> bool:
        """Whether the account is a supervisor's."""
        return self.role is Role.SUPERVISOR


def parse_reads(raw: str) -> tuple[str, ...]:
    """The languages an account reads, from "th,km" (or "th km"); AccountError names a wrong one."""
    found = {x for x in raw.replace(",", " ").split() if x}
    wrong = sorted(found - set(LANGUAGES))
    if wrong:
        raise AccountError(f"reads: {', '.join(wrong)} is not one of {', '.join(LANGUAGES)}")
    return tuple(lang for lang in LANGUAGES if lang in found)


async def create(
    redis: aioredis.Redis,
    name: str,
    password: str,
    role: Role,
    language: str = "en",
    reads: tuple[str, ...] = (),
) -> Account:
    """Makes an account; AccountError when the name is taken or the password too short."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise AccountError(
            "a user name is 2-32 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if language not in CONSOLE_LANGUAGES:
        raise AccountError(f"the console speaks {' and '.join(CONSOLE_LANGUAGES)}")
    fields = {
        "hash": await asyncio.to_thread(_hasher.hash, password),
        "role": role.value,
        "language": language,
        "reads": ",".join(reads),
        "created": str(time.time()),
    }
    if not await redis.hsetnx(user_key(name), "role", role.value):
        raise AccountError(f"there is already a user called {name}")
    await redis.hset(user_key(name), mapping=fields)
    await redis.sadd(USERS, name)
    return Account(name, role, language, reads)


async def find(redis: aioredis.Redis, name: str) -> Account | None:
    """The account of that name, if there is one."""
    found: dict[str, str] = await redis.hgetall(user_key(name))
    if not found.get("hash"):
        return None
    reads = tuple(x for x in found.get("reads", "").split(",") if x in LANGUAGES)
    return Account(name, Role(found["role"]), found.get("language", "en"), reads)


async def verify(redis: aioredis.Redis, name: str, password: str) -> Account | None:
    """The account when the password is right, else None (same cost either way). Argon2 runs in
    a thread: on the event loop it would hold up every webhook and page of the process."""
    stored = await redis.hget(user_key(name), "hash") if name else None
    try:
        await asyncio.to_thread(_hasher.verify, stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        await redis.hset(user_key(name), "hash", await asyncio.to_thread(_hasher.hash, password))
    return await find(redis, name)


async def everyone(redis: aioredis.Redis) -> list[Account]:
    """All accounts, by name."""
    names = sorted(await redis.smembers(USERS))
    found = [await find(redis, name) for name in names]
    return [account for account in found if account is not None]


async def set_reads(redis: aioredis.Redis, name: str, reads: tuple[str, ...]) -> None:
    """The languages this account reads; AccountError when there is no such account."""
    if await find(redis, name) is None:
        raise AccountError(f"there is no user called {name}")
    await redis.hset(user_key(name), "reads", ",".join(x for x in LANGUAGES if x in reads))


async def who_reads(redis: aioredis.Redis, names: set[str]) -> dict[str, list[str]]:
    """Of these accounts (those online, say), who reads each language: language -> names."""
    found: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    ordered = sorted(names)
    async with redis.pipeline(transaction=False) as pipe:
        for name in ordered:
            pipe.hget(user_key(name), "reads")
        reads: list[str | None] = await pipe.execute()
    for name, read in zip(ordered, reads, strict=True):
        for lang in (read or "").split(","):
            if lang in found:
                found[lang].append(name)
    return found


async def set_language(redis: aioredis.Redis, name: str, language: str) -> None:
    """The console's language for this user (en or th)."""
    if language in CONSOLE_LANGUAGES:
        await redis.hset(user_key(name), "language", language)
