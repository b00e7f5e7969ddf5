"""Console sessions: a random cookie (HttpOnly, SameSite=Strict), only its digest stored in Redis,
with a CSRF token that every form and every console request that changes something must echo.
And signing in: how many attempts an account, an address and a known browser get, and the failed
sign-ins supervisors see."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.limits import address_group
from bot.store import (
    failed_logins_key,
    login_failures_key,
    session_key,
    user_devices_key,
    user_key,
)
from handoff import accounts
from handoff.accounts import Account

COOKIE = "hl_console"
# A session ends after this long without a request (a shift with breaks fits in it), and this
# long after it began however busy.
IDLE_SECONDS = 12 * 3600
LONGEST_SECONDS = 7 * 24 * 3600
# Sign-in attempts allowed in any window of this length: per account (whoever tries, from wherever),
# per address (an IPv6 /64), and per browser that has signed in to that account before. Such a
# browser is counted apart, so that an attacker's guesses never lock the account's operator out.
ATTEMPT_WINDOW_SECONDS = 15 * 60
ATTEMPTS_PER_NAME = 5
ATTEMPTS_PER_ADDRESS = 20
ATTEMPTS_PER_DEVICE = 5
# The cookie that makes a browser known: random, only its digest kept with the account, for at
# most DEVICE_SECONDS after its last sign-in, and for the account's DEVICES_KEPT latest browsers.
DEVICE_COOKIE = "hl_device"
DEVICE_SECONDS = 90 * 24 * 3600
DEVICES_KEPT = 20
DEVICE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
FAILURES_HOURS = 24


@dataclass(frozen=True)
class Session:
    """A signed-in console user and the CSRF token of the session."""

    token: str
    account: Account
    csrf: str


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: `wait` seconds before another is allowed (0: this one may be checked),
    and the counters it was added to under `mark`, for a success to give it back."""

    wait: int
    counted: tuple[str, ...] = ()
    mark: str = ""


@dataclass(frozen=True)
class Failures:
    """An account's failed sign-ins: wrong passwords, and attempts refused as too many."""

    wrong: int = 0
    refused: int = 0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(redis: aioredis.Redis, account: Account) -> Session:
    """A new session for the account."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    key = session_key(_digest(token))
    fields = {
        "user": account.name,
        "csrf": csrf,
        "started": str(time.time()),
        "generation": str(account.generation),
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=fields)
        pipe.expire(key, IDLE_SECONDS)
        await pipe.execute()
    return Session(token, account, csrf)


async def find(redis: aioredis.Redis, token: str | None) -> Session | None:
    """The session of a cookie, renewed; None when unknown, idle too long, older than
    LONGEST_SECONDS, or ended with its account's other sessions (disabled, new password)."""
    if not token:
        return None
    key = session_key(_digest(token))
    found: dict[str, str] = await redis.hgetall(key)
    if not found:
        return None
    account = await accounts.find(redis, found["user"])
    left = float(found.get("started", 0)) + LONGEST_SECONDS - time.time()
    if account is None or left <= 0 or found.get("generation") != str(account.generation):
        await redis.delete(key)
        return None
    await redis.expire(key, max(1, int(min(IDLE_SECONDS, left))))
    return Session(token, account, found["csrf"])


async def end(redis: aioredis.Redis, token: str) -> None:
    """Signs out."""
    await redis.delete(session_key(_digest(token)))


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a request echoed the session's CSRF token."""
    return bool(given) and hmac.compare_digest(session.csrf, str(given))


# KEYS: the account, its attempts, the address's, the account's known browsers, this browser's
# attempts at the account, this hour's failed sign-ins. ARGV: the window in seconds, attempts
# allowed per account, per address, per browser; the browser's digest ('' for none); this
# attempt's mark; how long a browser stays known; the name; how long an hour's count is kept.
# A known browser of the account is counted apart; a name that is no account only at its address
# (no key is made for it). Each counter holds the attempts of the last window, so no window of
# that length ever holds more than it allows, however many come at once. Returns {0, counters
# added to...}, or {seconds to wait}.
_ATTEMPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window = tonumber(ARGV[1])
local account = redis.call('EXISTS', KEYS[1]) == 1
local counters = {{KEYS[3], ARGV[3]}}
if account then
  local seen = ARGV[5] ~= '' and redis.call('ZSCORE', KEYS[4], ARGV[5])
  if seen and tonumber(seen) > now - tonumber(ARGV[7]) then
    counters = {{KEYS[5], ARGV[4]}}
  else
    counters = {{KEYS[2], ARGV[2]}, {KEYS[3], ARGV[3]}}
  end
end
local wait = 0
for _, counter in ipairs(counters) do
  redis.call('ZREMRANGEBYSCORE', counter[1], '-inf', now - window)
  if redis.call('ZCARD', counter[1]) >= tonumber(counter[2]) then
    local oldest = redis.call('ZRANGE', counter[1], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then
  if account then
    redis.call('HINCRBY', KEYS[6], 'refused:' .. ARGV[8], 1)
    redis.call('EXPIRE', KEYS[6], ARGV[9])
  end
  return {math.ceil(wait)}
end
local added = {0}
for _, counter in ipairs(counters) do
  redis.call('ZADD', counter[1], now, ARGV[6])
  redis.call('EXPIRE', counter[1], window)
  added[#added + 1] = counter[1]
end
return added
"""


async def login_attempt(
    redis: aioredis.Redis, name: str, address: str, device: str | None
) -> Attempt:
    """Counts a sign-in attempt before its password is checked: ATTEMPTS_PER_NAME per account and
    ATTEMPTS_PER_ADDRESS per address in ATTEMPT_WINDOW_SECONDS, or ATTEMPTS_PER_DEVICE from a
    browser that signed in to the account before (`device`: its cookie)."""
    digest = _digest(device) if device and DEVICE_PATTERN.match(device) else ""
    keys = [
        user_key(name),
        login_failures_key(f"name:{name}"),
        login_failures_key(f"addr:{address_group(address)}"),
        user_devices_key(name),
        login_failures_key(f"device:{name}:{digest}"),
        failed_logins_key(int(time.time() // 3600)),
    ]
    mark = secrets.token_hex(8)
    args = [
        ATTEMPT_WINDOW_SECONDS,
        ATTEMPTS_PER_NAME,
        ATTEMPTS_PER_ADDRESS,
        ATTEMPTS_PER_DEVICE,
        digest,
        mark,
        DEVICE_SECONDS,
        name,
        (FAILURES_HOURS + 1) * 3600,
    ]
    wait, *counted = await redis.eval(_ATTEMPT, len(keys), *keys, *args)
    return Attempt(int(wait), tuple(counted), mark)


async def login_succeeded(
    redis: aioredis.Redis, account: Account, attempt: Attempt, device: str | None
) -> str:
    """A right password: the attempt is given back (an office signs many operators in from one
    address), and the browser is remembered as one the account signs in with. Returns the
    browser's device cookie: the one it had, or a new one."""
    token = device if device and DEVICE_PATTERN.match(device) else secrets.token_urlsafe(32)
    known = user_devices_key(account.name)
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        for counter in attempt.counted:
            pipe.zrem(counter, attempt.mark)
        pipe.zadd(known, {_digest(token): now})
        pipe.zremrangebyscore(known, "-inf", now - DEVICE_SECONDS)
        pipe.zremrangebyrank(known, 0, -DEVICES_KEPT - 1)
        pipe.expire(known, DEVICE_SECONDS)
        await pipe.execute()
    return token


# KEYS: the account, this hour's failed sign-ins. ARGV: the field, how long the hour is kept.
_FAILED = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
"""


async def login_failed(redis: aioredis.Redis, name: str) -> None:
    """Counts a wrong password for the supervisors, when the name is an account's (an unknown
    name leaves nothing)."""
    keys = [user_key(name), failed_logins_key(int(time.time() // 3600))]
    await redis.eval(_FAILED, len(keys), *keys, f"wrong:{name}", (FAILURES_HOURS + 1) * 3600)


async def failed_logins(redis: aioredis.Redis) -> dict[str, Failures]:
    """Failed sign-ins in the last FAILURES_HOURS hours, per account that had any."""
    hour = int(time.time() // 3600)
    async with redis.pipeline(transaction=False) as pipe:
        for past in range(FAILURES_HOURS):
            pipe.hgetall(failed_logins_key(hour - past))
        hours: list[dict[str, str]] = await pipe.execute()
    wrong: dict[str, int] = {}
    refused: dict[str, int] = {}
    for counts in hours:
        for field, count in counts.items():
            kind, _, name = field.partition(":")
            into = wrong if kind == "wrong" else refused
            into[name] = into.get(name, 0) + int(count)
    return {
        name: Failures(wrong.get(name, 0), refused.get(name, 0))
        for name in sorted(wrong.keys() | refused.keys())
    }
