"""Limits on what one address or one conversation may send, kept in Redis so that every web
process shares them: a fixed window per limit and sender, counted and checked in one atomic step.
Senders are named in Redis only by a keyed hash (an address is personal data)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.store import PREFIX

# KEYS: the counter. ARGV: the window in milliseconds, how many it allows. Returns 0 when allowed,
# else the milliseconds until the window ends.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if count > tonumber(ARGV[2]) then return math.max(redis.call('PTTL', KEYS[1]), 1) end
return 0
"""


@dataclass(frozen=True)
class Limit:
    """At most `count` in `seconds` for one sender."""

    name: str
    count: int
    seconds: int


# The web chat's limits by default (count/seconds): a person pressing through the screening sends
# a message every second or two; a flood sends hundreds a second. An NGO's office may share one
# address. Pages opened (event streams) are counted apart from messages. Each can be set in the
# environment: LIMIT_WEB_ADDRESS=12/10, and so on.
DEFAULTS = {
    "web-address": "12/10",
    "web-address-minute": "60/60",
    "web-chat": "40/60",
    "web-pages": "120/60",
    # Photos, recordings and files from one web chat (each up to 20 MB).
    "web-media": "10/600",
    # Telegram and LINE, per chat (bot/chat_limits.py).
    "chat": "30/60",
}


def address_group(host: str) -> str:
    """Who an address is counted as: an IPv4 address as it is, an IPv6 address by its /64 (a home
    or a phone is given a whole /64), anything else as one "other"."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "other"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class LimitError(ValueError):
    """A limit setting is malformed; the message names it."""


def from_env(env: dict[str, str]) -> dict[str, Limit]:
    """The limits, each from LIMIT_<NAME> ("count/seconds") or its default."""
    found = {}
    for name, default in DEFAULTS.items():
        setting = "LIMIT_" + name.upper().replace("-", "_")
        raw = env.get(setting, "").strip() or default
        try:
            count, seconds = (int(part) for part in raw.split("/"))
        except ValueError:
            count = seconds = 0
        if count < 1 or seconds < 1:
            raise LimitError(f"{setting} must be count/seconds, e.g. {default}, not {raw!r}")
        found[name] = Limit(name, count, seconds)
    return found


class Limiter:
    """Counts a sender against a limit."""

    def __init__(self, client: aioredis.Redis, secret: bytes) -> None:
        """`secret` keys the hash that names senders (ID_SECRET)."""
        self.secret = secret
        self._hit = client.register_script(_HIT)

    async def wait(self, limit: Limit, sender: str) -> float:
        """Counts one more for the sender: 0 when it is allowed, else the seconds to wait."""
        name = hmac.new(self.secret, f"{limit.name}:{sender}".encode(), hashlib.sha256)
        key = f"{PREFIX}:limit:{limit.name}:{name.hexdigest()[:32]}"
        left = await self._hit(keys=[key], args=[limit.seconds * 1000, limit.count])
        return int(left) / 1000
