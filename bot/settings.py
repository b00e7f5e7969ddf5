"""The gateway's settings, read from the environment (`make run` loads .env and var/secrets.env)."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from bot import limits
from bot.limits import Limit
from hotline.sealer import Sealer

# Telegram's rule for a bot's username: 5 to 32 letters, digits or "_", ending in "bot".
TELEGRAM_USERNAME = re.compile(r"^[A-Za-z0-9_]{2,29}bot$", re.IGNORECASE)
# A LINE official account's id: "@" and its basic (8 characters) or premium (up to 18) id.
LINE_ACCOUNT = re.compile(r"^@[a-z0-9._-]{1,20}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Where Redis and Rasa are, where the gateway listens, and its secrets."""

    redis: RedisLogin
    rasa_urls: tuple[str, ...]
    host: str
    port: int
    id_secret: bytes
    message_key: bytes
    conversation_ttl: int
    public_url: str
    telegram_token: str
    telegram_api_url: str
    line_channel_secret: str
    line_access_token: str
    line_api_url: str
    safe_word: str
    telegram_bot_username: str
    line_account_id: str
    wait_reminder_minutes: float
    translate_url: str
    translate_api_key: str
    limits: dict[str, Limit]
    forwarded_allow_ips: tuple[str, ...]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, user: str = "web") -> Settings:
        """Reads the settings of a process that signs in to Redis as `user` (see redis_login);
        SettingsError names the first one that is wrong."""
        env = dict(os.environ if env is None else env)
        if bool(env.get("LINE_CHANNEL_SECRET", "").strip()) != bool(
            env.get("LINE_ACCESS_TOKEN", "").strip()
        ):
            raise SettingsError(
                "LINE needs both LINE_CHANNEL_SECRET and LINE_ACCESS_TOKEN (LINE Developers "
                "console, Messaging API tab); only one is set"
            )
        return cls(
            redis=redis_login(env, user),
            rasa_urls=_urls(env, "RASA_URL", f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}"),
            host=env.get("BOT_HOST", "127.0.0.1"),
            port=_number(env, "BOT_PORT", 8000),
            id_secret=_secret(env, "ID_SECRET"),
            message_key=_message_keys(env),
            conversation_ttl=_number(env, "CONVERSATION_TTL_SECONDS", 30 * 24 * 3600),
            public_url=env.get("PUBLIC_URL", "").rstrip("/"),
            telegram_token=env.get("TELEGRAM_TOKEN", "").strip(),
            telegram_api_url=env.get("TELEGRAM_API_URL", "https://api.telegram.org"),
            line_channel_secret=env.get("LINE_CHANNEL_SECRET", "").strip(),
            line_access_token=env.get("LINE_ACCESS_TOKEN", "").strip(),
            line_api_url=env.get("LINE_API_URL", "https://api.line.me"),
            safe_word=env.get("SAFE_WORD", "").strip(),
            telegram_bot_username=_telegram_username(env),
            line_account_id=_line_account(env),
            wait_reminder_minutes=_minutes(env, "WAIT_REMINDER_MINUTES", 10),
            translate_url=_optional_url(env, "TRANSLATE_URL"),
            translate_api_key=env.get("TRANSLATE_API_KEY", "").strip(),
            limits=_limits(env),
            forwarded_allow_ips=_proxies(env),
        )

    @property
    def line(self) -> bool:
        """Whether LINE is configured."""
        return bool(self.line_channel_secret)


@dataclass(frozen=True)
class RedisLogin:
    """Where Redis is and who a process signs in as."""

    host: str
    port: int
    username: str | None
    password: str | None

    def options(self) -> dict[str, Any]:
        """What a redis-py client or pool is made with."""
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
        }


def redis_login(env: dict[str, str], user: str) -> RedisLogin:
    """Where Redis is (REDIS_HOST, REDIS_PORT; by default 127.0.0.1:6380) and who signs in:
    REDIS_USERNAME and REDIS_PASSWORD when set (a Redis of your own), else `user` (web, worker,
    admin) with its password REDIS_PASSWORD_<USER> (`make run` makes them in var/secrets.env);
    nobody when neither is set."""
    host, port = env.get("REDIS_HOST", "127.0.0.1"), _number(env, "REDIS_PORT", 6380)
    password = env.get("REDIS_PASSWORD", "").strip()
    if password:
        return RedisLogin(host, port, env.get("REDIS_USERNAME", "").strip() or None, password)
    password = env.get(f"REDIS_PASSWORD_{user.upper()}", "").strip()
    return RedisLogin(host, port, user if password else None, password or None)


def _number(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _minutes(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip() or str(default)
    try:
        minutes = float(raw)
    except ValueError:
        minutes = -1
    if not 0 < minutes <= 24 * 60:
        raise SettingsError(f"{name} must be a number of minutes above 0, not {raw!r}")
    return minutes


def _limits(env: dict[str, str]) -> dict[str, Limit]:
    try:
        return limits.from_env(env)
    except limits.LimitError as error:
        raise SettingsError(str(error)) from None


def _proxies(env: dict[str, str]) -> tuple[str, ...]:
    """FORWARDED_ALLOW_IPS: the addresses (or networks) of the reverse proxies whose
    X-Forwarded-For is believed; none by default, so a client's address is its connection's."""
    raw = env.get("FORWARDED_ALLOW_IPS", "").strip()
    found = []
    for item in (x.strip() for x in raw.split(",") if x.strip()):
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(
                "FORWARDED_ALLOW_IPS must list the reverse proxy's addresses or networks, "
                f"separated by commas (e.g. 127.0.0.1 or 10.0.0.0/24; not '*'), not {item!r}"
            ) from None
    return tuple(found)


def _optional_url(env: dict[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if raw and not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be a URL (http://host:port), not {raw!r}")
    return raw.rstrip("/")


def _urls(env: dict[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = env.get(name, "").strip() or default
    urls = tuple(u.strip() for u in raw.split(",") if u.strip())
    wrong = [u for u in urls if not u.startswith(("http://", "https://"))]
    if not urls or wrong:
        raise SettingsError(
            f"{name} must be one URL or several separated by commas (http://host:port), not {raw!r}"
        )
    return urls


def _secret(env: dict[str, str], name: str) -> bytes:
    value = env.get(name, "")
    if not value:
        raise SettingsError(
            f"{name} is not set. `make run` creates local secrets in var/secrets.env; "
            f"in production set {name} in the environment (see .env.example)."
        )
    return value.encode()


def _message_keys(env: dict[str, str]) -> bytes:
    """MESSAGE_KEY: Fernet keys separated by commas, the newest first (see bot/rotate_keys.py)."""
    keys = _secret(env, "MESSAGE_KEY")
    try:
        Sealer(keys)
    except ValueError:
        raise SettingsError(
            "MESSAGE_KEY must be one or more Fernet keys separated by commas, newest first; make "
            "one with: .venv/bin/python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None
    return keys


def _telegram_username(env: dict[str, str]) -> str:
    """TELEGRAM_BOT_USERNAME: the bot's username (with or without its "@"), for t.me links."""
    raw = env.get("TELEGRAM_BOT_USERNAME", "").strip()
    name = raw.removeprefix("@")
    if raw and not TELEGRAM_USERNAME.match(name):
        raise SettingsError(
            "TELEGRAM_BOT_USERNAME must be the bot's username as @BotFather shows it: 5 to 32 "
            f"letters, digits or '_', ending in 'bot' (e.g. @hotline_help_bot), not {raw!r}"
        )
    return name


def _line_account(env: dict[str, str]) -> str:
    """LINE_ACCOUNT_ID: the official account's id with its "@", for line.me links."""
    raw = env.get("LINE_ACCOUNT_ID", "").strip()
    if raw and not LINE_ACCOUNT.match(raw.lower()):
        raise SettingsError(
            "LINE_ACCOUNT_ID must be the official account's id with its '@' (LINE Official "
            f"Account Manager, e.g. @123abcde or @hotline), not {raw!r}"
        )
    return raw.lower()


def start_process(name: str, user: str = "web", env: dict[str, str] | None = None) -> Settings:
    """What every gateway process does first: set up logging and read the settings (signing in
    to Redis as `user`) from `env`, by default the environment. A wrong setting is one line on
    stderr, naming the process, and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return Settings.from_env(env, user=user)
    except SettingsError as error:
        print(f"{name}: {error}", file=sys.stderr)  # noqa: T201
        sys.exit(2)
