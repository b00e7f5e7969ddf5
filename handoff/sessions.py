"""Console sessions: a random cookie (HttpOnly, SameSite=Strict), only its digest stored in Redis,
with a CSRF token that every form and every console request that changes something must echo."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.store import login_failures_key, session_key
from handoff import accounts
from handoff.accounts import Account

COOKIE = "hl_console"
# A session ends after this long without a request (a shift with breaks fits in it).
IDLE_SECONDS = 12 * 3600
# Failed logins allowed per user name and per address within the window.
FAILURES_PER_NAME = 5
FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Session:
    """A signed-in console user and the CSRF token of the session."""

    token: str
    account: Account
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(redis: aioredis.Redis, account: Account) -> Session:
    """A new session for the account."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    key = session_key(_digest(token))
    await redis.hset(key, mapping={"user": account.name, "csrf": csrf})
    await redis.expire(key, IDLE_SECONDS)
    return Session(token, account, csrf)


async def find(redis: aioredis.Redis, token: str | None) -> Session | None:
    """The session of a cookie, renewed; None when unknown, expired or the account is gone."""
    if not token:
        return None
    key = session_key(_digest(token))
    found: dict[str, str] = await redis.hgetall(key)
    if not found:
        return None
    account = await accounts.find(redis, found["user"])
    if account is None:
        await redis.delete(key)
        return None
    await redis.expire(key, IDLE_SECONDS)
    return Session(token, account, found["csrf"])


async def end(redis: aioredis.Redis, token: str) -> None:
    """Signs out."""
    await redis.delete(session_key(_digest(token)))


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a request echoed the session's CSRF token."""
    return bool(given) and hmac.compare_digest(session.csrf, str(given))


async def login_blocked(redis: aioredis.Redis, name: str, address: str) -> bool:
    """Whether too many logins failed lately for this name or from this address."""
    by_name, by_address = await redis.mget(
        login_failures_key(f"name:{name}"), login_failures_key(f"addr:{address}")
    )
    return int(by_name or 0) >= FAILURES_PER_NAME or int(by_address or 0) >= FAILURES_PER_ADDRESS


async def login_failed(redis: aioredis.Redis, name: str, address: str) -> None:
    """Counts a failed login against the name and the address."""
    for who in (f"name:{name}", f"addr:{address}"):
        # The window starts at the first failure (Redis 6 has no EXPIRE ... NX).
        if await redis.incr(login_failures_key(who)) == 1:
            await redis.expire(login_failures_key(who), FAILURE_WINDOW_SECONDS)


async def login_succeeded(redis: aioredis.Redis, name: str) -> None:
    """Forgets the failures of a name once its password was given right."""
    await redis.delete(login_failures_key(f"name:{name}"))
