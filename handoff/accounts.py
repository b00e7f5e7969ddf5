"""Console accounts: operators and supervisors, passwords hashed with argon2. An account can be
disabled, enabled again and given a new password; each of these ends its sessions."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store import USERS, user_devices_key, user_key
from hotline.language import LANGUAGES

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,31}$"
MIN_PASSWORD = 12
CONSOLE_LANGUAGES = ("en", "th")
_hasher = PasswordHasher()
# Checked when the user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
# What a password made for someone is written with: no letters that look alike.
_READABLE = "abcdefghjkmnpqrstuvwxyz23456789"


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
    disabled: bool = False
    # Goes up each time the account's sessions are ended; a session of an older one is refused.
    generation: int = 0

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


def _account(name: str, found: dict[str, str]) -> Account | None:
    if not found.get("hash"):
        return None
    reads = tuple(x for x in found.get("reads", "").split(",") if x in LANGUAGES)
    return Account(
        name,
        Role(found["role"]),
        found.get("language", "en"),
        reads,
        disabled=bool(found.get("disabled")),
        generation=int(found.get("generation", 0)),
    )


async def _any(redis: aioredis.Redis, name: str) -> Account | None:
    found: dict[str, str] = await redis.hgetall(user_key(name))
    return _account(name, found)


async def find(redis: aioredis.Redis, name: str) -> Account | None:
    """The account of that name, if there is one and it is not disabled."""
    account = await _any(redis, name)
    return None if account is None or account.disabled else account


# KEYS: the account. ARGV: the hash the password was checked against, the new hash. A password
# set meanwhile (reset-password) is not overwritten with the old one.
_REHASH = """
if redis.call('HGET', KEYS[1], 'hash') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'hash', ARGV[2])
end
"""


async def verify(redis: aioredis.Redis, name: str, password: str) -> Account | None:
    """The account when the password is right and the account not disabled, else None (same
    cost either way). Argon2 runs in a thread: on the event loop it would hold up every webhook
    and page of the process. The account is as it was read before the check, so a session
    started with it is refused if the account's sessions were ended during the check."""
    possible = re.fullmatch(NAME_PATTERN, name)
    found: dict[str, str] = await redis.hgetall(user_key(name)) if possible else {}
    stored = found.get("hash")
    try:
        await asyncio.to_thread(_hasher.verify, stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    account = _account(name, found)
    if stored is None or account is None or account.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        rehashed = await asyncio.to_thread(_hasher.hash, password)
        await redis.eval(_REHASH, 1, user_key(name), stored, rehashed)
    return account


async def everyone(redis: aioredis.Redis) -> list[Account]:
    """The accounts that are not disabled, by name."""
    return [account for account in await roster(redis) if not account.disabled]


async def roster(redis: aioredis.Redis) -> list[Account]:
    """Every account, disabled ones too, by name."""
    found = [await _any(redis, name) for name in sorted(await redis.smembers(USERS))]
    return [account for account in found if account is not None]


async def _existing(redis: aioredis.Redis, name: str) -> None:
    if not re.fullmatch(NAME_PATTERN, name) or not await redis.hexists(user_key(name), "hash"):
        raise AccountError(f"there is no user called {name}")


async def _end_sessions(redis: aioredis.Redis, name: str, **fields: str) -> None:
    """Sets the fields and ends the account's sessions, and forgets the browsers it signed in
    with (they no longer get a sign-in allowance of their own), in one transaction."""
    async with redis.pipeline(transaction=True) as pipe:
        if fields:
            pipe.hset(user_key(name), mapping=fields)
        pipe.hincrby(user_key(name), "generation", 1)
        pipe.delete(user_devices_key(name))
        await pipe.execute()


async def disable(redis: aioredis.Redis, name: str) -> None:
    """The account can no longer sign in, and its open sessions stop working at once."""
    await _existing(redis, name)
    await _end_sessions(redis, name, disabled=str(time.time()))


async def enable(redis: aioredis.Redis, name: str) -> None:
    """A disabled account can sign in again (with the password it had)."""
    await _existing(redis, name)
    await _end_sessions(redis, name, disabled="")


async def set_password(redis: aioredis.Redis, name: str, password: str) -> None:
    """A new password for the account; its sessions end and the old password stops working."""
    await _existing(redis, name)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    await _end_sessions(redis, name, hash=await asyncio.to_thread(_hasher.hash, password))


def new_password() -> str:
    """A random password that is easy to read out: four groups of four letters and digits."""
    return "-".join("".join(secrets.choice(_READABLE) for _ in range(4)) for _ in range(4))


async def set_reads(redis: aioredis.Redis, name: str, reads: tuple[str, ...]) -> None:
    """The languages this account reads; AccountError when there is no such account."""
    await _existing(redis, name)
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
