"""The gateway's settings: one pydantic-settings object, read from the environment (`make run` loads
.env and var/secrets.env) and checked when a process starts.

DEPLOYMENT says where it runs: `local` (what `make run` and `make test` set: throw-away secrets
are fine) or `production` (the default: a weak or example secret, or a Redis without a password,
is refused before anything starts).
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.sources import EnvSettingsSource, PydanticBaseSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from bot import limits
from bot.limits import Limit
from hotline.redis_sentinels import sentinels_of
from hotline.sealer import Sealer

# Telegram's rule for a bot's username: 5 to 32 letters, digits or "_", ending in "bot".
TELEGRAM_USERNAME = re.compile(r"^[A-Za-z0-9_]{2,29}bot$", re.IGNORECASE)
# A LINE official account's id: "@" and its basic (8 characters) or premium (up to 18) id.
LINE_ACCOUNT = re.compile(r"^@[a-z0-9._-]{1,20}$")
# In production: how long a secret or a Redis password must be at least, and how many different
# characters (or bytes, for a message key) it must have, so that "aaaa…" or a pattern is refused.
STRONG_LENGTH = {"ID_SECRET": 32, "Redis password": 16}
STRONG_VARIETY = 8
SECRETS_HELP = (
    "`make run` creates local secrets in var/secrets.env; in production set {name} in the "
    "environment (see .env.example)."
)
MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
MAKE_KEY = (
    ".venv/bin/python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)

# The environment `from_env` was given, instead of the process's.
_GIVEN: ContextVar[Mapping[str, str] | None] = ContextVar("given_environment", default=None)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


class _Environment(EnvSettingsSource):
    """The environment variables of the process, or those `Settings.from_env` was given."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        given = _GIVEN.get()
        return parse_env_vars(
            os.environ if given is None else given,
            self.case_sensitive,
            self.env_ignore_empty,
            self.env_parse_none_str,
        )


@dataclass(frozen=True)
class RedisLogin:
    """Where Redis is and who a process signs in as: the server itself, or the Sentinels that
    know which server is the primary (bot/redis_client.py)."""

    host: str
    port: int
    username: str | None
    password: str | None
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str = "hotline"
    # How many replicas must hold an accepted message before it is acknowledged.
    wait_replicas: int = 0


Commas = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Where Redis and Rasa are, where the gateway listens, its channels, limits and secrets. Each
    field is the environment variable of the same name in capitals."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_ignore_empty=True)

    deployment: Literal["local", "production"] = "production"
    # Who this process signs in to Redis as (web, worker, admin: start_process says).
    process_user: str = "web"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6380
    # Sentinels (host:port, separated by commas) and the name they know the primary by; set, the
    # processes follow the primary through a failover and REDIS_HOST/REDIS_PORT are not used.
    redis_sentinels: str = ""
    redis_master_name: str = "hotline"
    redis_wait_replicas: str = ""
    redis_username: str = ""
    redis_password: str = ""
    redis_password_web: str = ""
    redis_password_worker: str = ""
    redis_password_admin: str = ""
    rasa_url: Commas = ()
    rasa_port: int = 5005
    bot_host: str = "127.0.0.1"
    bot_port: int = 8000
    # The internal ports (bot/probes.py): the web process's /metrics, the worker's /health,
    # /ready and /metrics; apart from the public port, on the loopback unless set.
    metrics_host: str = "127.0.0.1"
    metrics_port: Annotated[int, Field(ge=1, le=65535)] = 9101
    worker_port: Annotated[int, Field(ge=1, le=65535)] = 9102
    id_secret: bytes = b""
    message_key: bytes = b""
    conversation_ttl_seconds: int = 30 * 24 * 3600
    public_url: str = ""
    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    line_channel_secret: str = ""
    line_access_token: str = ""
    line_api_url: str = "https://api.line.me"
    line_data_url: str = "https://api-data.line.me"
    # Where the photos, recordings and files people send are kept, encrypted (bot/media.py).
    media_dir: Path = Path("var/media")
    # Instead of MEDIA_DIR: an S3-compatible bucket, https://<endpoint>/<bucket>[/<prefix>].
    media_s3_url: str = ""
    safe_word: str = ""
    telegram_bot_username: str = ""
    line_account_id: str = ""
    wait_reminder_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 10.0
    translate_url: str = ""
    translate_api_key: str = ""
    # This hotline's key for referrals to partner hotlines (bot/envelopes.py); its public half
    # is printed by `python -m handoff.admin referral-key`.
    referral_key: str = ""
    forwarded_allow_ips: Commas = ()
    # LIMIT_<NAME>="count/seconds" for each of bot/limits.py's DEFAULTS.
    limit_web_address: str = ""
    limit_web_address_minute: str = ""
    limit_web_chat: str = ""
    limit_web_pages: str = ""
    limit_web_media: str = ""
    limit_chat: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """What is passed, then the environment; no .env file (make loads it)."""
        return init_settings, _Environment(settings_cls)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, user: str = "web") -> Settings:
        """Reads the settings of a process that signs in to Redis as `user` (see redis_login)
        from `env`, by default the process's environment; SettingsError names the first one that
        is wrong and says how to fix it."""
        token = _GIVEN.set(env)
        try:
            return cls(process_user=user)
        except ValidationError as error:
            raise SettingsError(_one_line(error)) from None
        finally:
            _GIVEN.reset(token)

    @field_validator("rasa_url", "forwarded_allow_ips", mode="before")
    @classmethod
    def _commas(cls, raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, str):
            return tuple(raw)
        # Nothing set is the default; commas with nothing between them are a mistake.
        return tuple(part.strip() for part in raw.split(",") if part.strip()) or (
            (raw,) if raw.strip() else ()
        )

    @field_validator("rasa_url")
    @classmethod
    def _rasa_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        if any(not url.startswith(("http://", "https://")) for url in urls):
            raise ValueError(
                "RASA_URL must be one URL or several separated by commas (http://host:port), "
                f"not {','.join(urls)!r}"
            )
        return urls

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        """The addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed;
        none by default, so a client's address is its connection's."""
        found = []
        for item in items:
            try:
                found.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(
                    "FORWARDED_ALLOW_IPS must list the reverse proxy's addresses or networks, "
                    f"separated by commas (e.g. 127.0.0.1 or 10.0.0.0/24; not '*'), not {item!r}"
                ) from None
        return tuple(found)

    @field_validator("message_key")
    @classmethod
    def _message_keys(cls, keys: bytes) -> bytes:
        """Fernet keys separated by commas, the newest first (see bot/rotate_keys.py)."""
        try:
            if keys:
                Sealer(keys)
        except ValueError:
            raise ValueError(
                "MESSAGE_KEY must be one or more Fernet keys separated by commas, newest first; "
                f"make one with: {MAKE_KEY}"
            ) from None
        return keys

    @field_validator("public_url", "translate_url")
    @classmethod
    def _url(cls, raw: str) -> str:
        if raw.strip() and not raw.strip().startswith(("http://", "https://")):
            raise ValueError(f"must be a URL (http://host:port), not {raw!r}")
        return raw.strip().rstrip("/")

    @field_validator("referral_key")
    @classmethod
    def _referral_key(cls, raw: str) -> str:
        try:
            if raw.strip() and len(base64.b64decode(raw.strip(), validate=True)) == 32:
                return raw.strip()
        except ValueError:
            pass
        if raw.strip():
            raise ValueError(
                "REFERRAL_KEY must be 32 random bytes in base64; make one with: "
                "python -m handoff.admin referral-key --new"
            )
        return ""

    @field_validator("telegram_bot_username")
    @classmethod
    def _telegram_username(cls, raw: str) -> str:
        """The bot's username (with or without its "@"), for t.me links."""
        name = raw.strip().removeprefix("@")
        if name and not TELEGRAM_USERNAME.match(name):
            raise ValueError(
                "TELEGRAM_BOT_USERNAME must be the bot's username as @BotFather shows it: 5 to "
                f"32 letters, digits or '_', ending in 'bot' (e.g. @hotline_help_bot), not {raw!r}"
            )
        return name

    @field_validator("line_account_id")
    @classmethod
    def _line_account(cls, raw: str) -> str:
        """The official account's id with its "@", for line.me links."""
        if raw.strip() and not LINE_ACCOUNT.match(raw.strip().lower()):
            raise ValueError(
                "LINE_ACCOUNT_ID must be the official account's id with its '@' (LINE Official "
                f"Account Manager, e.g. @123abcde or @hotline), not {raw!r}"
            )
        return raw.strip().lower()

    @field_validator(
        "telegram_token",
        "line_channel_secret",
        "line_access_token",
        "safe_word",
        "translate_api_key",
    )
    @classmethod
    def _stripped(cls, raw: str) -> str:
        return raw.strip()

    @model_validator(mode="after")
    def _whole(self) -> Settings:
        """What depends on several settings: secrets set, LINE's two credentials together, the
        limits well formed, and in production no weak secret."""
        for name in ("ID_SECRET", "MESSAGE_KEY"):
            if not getattr(self, name.lower()):
                raise ValueError(f"{name} is not set. " + SECRETS_HELP.format(name=name))
        if bool(self.line_channel_secret) != bool(self.line_access_token):
            raise ValueError(
                "LINE needs both LINE_CHANNEL_SECRET and LINE_ACCESS_TOKEN (LINE Developers "
                "console, Messaging API tab); only one is set"
            )
        try:
            _ = self.limits
        except limits.LimitError as error:
            raise ValueError(str(error)) from None
        if self.deployment == "production":
            _refuse_weak(self)
        return self

    @property
    def redis(self) -> RedisLogin:
        """Where Redis is and who this process signs in as (see redis_login)."""
        return redis_login(
            {key.upper(): str(value) for key, value in self.model_dump().items()},
            self.process_user,
        )

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """Rasa's servers: RASA_URL, else the local one on RASA_PORT."""
        return self.rasa_url or (f"http://127.0.0.1:{self.rasa_port}",)

    @property
    def host(self) -> str:
        """Where the gateway listens (BOT_HOST)."""
        return self.bot_host

    @property
    def port(self) -> int:
        """The gateway's port (BOT_PORT)."""
        return self.bot_port

    @property
    def web_base(self) -> str:
        """Where people (and LINE, for the sounds it plays) reach the web process: PUBLIC_URL,
        else the address it serves."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def conversation_ttl(self) -> int:
        """Seconds a conversation is kept after its last message."""
        return self.conversation_ttl_seconds

    @property
    def limits(self) -> dict[str, Limit]:
        """The limits, each from LIMIT_<NAME> or its default."""
        set_here = self.model_dump(
            include={name for name in type(self).model_fields if "limit_" in name}
        )
        return limits.from_env({name.upper(): value for name, value in set_here.items()})

    @property
    def line(self) -> bool:
        """Whether LINE is configured."""
        return bool(self.line_channel_secret)


def _refuse_weak(settings: Settings) -> None:
    """In production: no short or patterned secret, no Redis without a password, HTTPS only."""
    secret = settings.id_secret.decode(errors="replace")
    if len(secret) < STRONG_LENGTH["ID_SECRET"] or len(set(secret)) < STRONG_VARIETY:
        raise ValueError(
            f"ID_SECRET is too weak for DEPLOYMENT=production (at least 32 random characters); "
            f"make one with: {MAKE_SECRET}"
        )
    for key in settings.message_key.split(b","):
        if len(set(base64.urlsafe_b64decode(key.strip()))) < STRONG_VARIETY:
            raise ValueError(
                f"MESSAGE_KEY holds a key that is not random; make one with: {MAKE_KEY}"
            )
    login = settings.redis
    if len(login.password or "") < STRONG_LENGTH["Redis password"]:
        raise ValueError(
            f"Redis needs a password of at least 16 characters in production: set "
            f"REDIS_PASSWORD_{settings.process_user.upper()} (or REDIS_USERNAME and REDIS_PASSWORD)"
        )
    for name in ("public_url", "translate_url"):
        if getattr(settings, name).startswith("http://"):
            raise ValueError(f"{name.upper()} must start with https:// in production")


def _one_line(error: ValidationError) -> str:
    """The first problem, as one line that names the setting."""
    first = error.errors()[0]
    field = str(first["loc"][0]).upper() if first["loc"] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] in ("int_parsing", "float_parsing"):
        return f"{field} must be a number, not {first['input']!r}"
    if field in ("METRICS_PORT", "WORKER_PORT"):
        return f"{field} must be a port number from 1 to 65535, not {first['input']!r}"
    if field == "WAIT_REMINDER_MINUTES":
        return f"{field} must be a number of minutes above 0, not {first['input']!r}"
    if message.startswith("must be"):
        return f"{field} {message}"
    if field and field not in message:
        return f"{field}: {message}"
    return message


def redis_login(env: Mapping[str, str], user: str) -> RedisLogin:
    """Where Redis is (REDIS_HOST, REDIS_PORT; by default 127.0.0.1:6380, or the primary that
    REDIS_SENTINELS know as REDIS_MASTER_NAME) and who signs in: REDIS_USERNAME and REDIS_PASSWORD
    when set (a Redis of your own), else `user` (web, worker, admin) with its password
    REDIS_PASSWORD_<USER> (`make run` makes them in var/secrets.env); nobody when neither is set.
    With Sentinels an accepted message waits for REDIS_WAIT_REPLICAS replicas (default 1)."""
    host = env.get("REDIS_HOST") or "127.0.0.1"
    try:
        port = int(env.get("REDIS_PORT") or 6380)
    except ValueError:
        raise SettingsError(f"REDIS_PORT must be a number, not {env.get('REDIS_PORT')!r}") from None
    try:
        sentinels = sentinels_of(env.get("REDIS_SENTINELS", ""))
    except ValueError as error:
        raise SettingsError(str(error)) from None
    waited = env.get("REDIS_WAIT_REPLICAS", "").strip() or ("1" if sentinels else "0")
    if not waited.isdigit():
        raise SettingsError(f"REDIS_WAIT_REPLICAS must be a number, not {waited!r}")
    master_name = env.get("REDIS_MASTER_NAME", "").strip() or "hotline"
    username: str | None = env.get("REDIS_USERNAME", "").strip() or None
    password = env.get("REDIS_PASSWORD", "").strip()
    if not password:
        password = env.get(f"REDIS_PASSWORD_{user.upper()}", "").strip()
        username = user if password else None
    return RedisLogin(host, port, username, password or None, sentinels, master_name, int(waited))


def start_process(name: str, user: str = "web", env: Mapping[str, str] | None = None) -> Settings:
    """What every gateway process does first: set up logging and read the settings (signing in
    to Redis as `user`) from `env`, by default the environment. A wrong setting is one line on
    stderr, naming the process, and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return Settings.from_env(env, user=user)
    except SettingsError as error:
        print(f"{name}: {error}", file=sys.stderr)  # noqa: T201
        sys.exit(2)
