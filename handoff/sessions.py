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
# Logins without a success allowed per user name, and logins per address, within the window.
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


# KEYS: the name's counter, the address's. ARGV: the window in seconds, attempts allowed per name,
# per address. Counts the attempt first, then checks: parallel guesses cannot slip between the two.
_ATTEMPT = """
local by_name = redis.call('INCR', KEYS[1])
if by_name == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local by_address = redis.call('INCR', KEYS[2])
if by_address == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
if by_name > tonumber(ARGV[2]) or by_address > tonumber(ARGV[3]) then return 0 end
return 1
"""


async def login_attempt(redis: aioredis.Redis, name: str, address: str) -> bool:
    """Counts a login attempt for the name and the address and says whether it may be checked:
    FAILURES_PER_NAME attempts without a success per name, FAILURES_PER_ADDRESS per address, in
    FAILURE_WINDOW_SECONDS, however many come at once (a success gives its attempt back)."""
    keys = [login_failures_key(f"name:{name}"), login_failures_key(f"addr:{address}")]
    args = [FAILURE_WINDOW_SECONDS, FAILURES_PER_NAME, FAILURES_PER_ADDRESS]
    return bool(await redis.eval(_ATTEMPT, len(keys), *keys, *args))


async def login_succeeded(redis: aioredis.Redis, name: str, address: str) -> None:
    """A right password: the name's attempts are forgotten, and this one is not held against the
    address (an office signs many operators in)."""
    await redis.delete(login_failures_key(f"name:{name}"))
    if await redis.decr(login_failures_key(f"addr:{address}")) < 0:
        await redis.delete(login_failures_key(f"addr:{address}"))
