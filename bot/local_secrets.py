"""This machine's secrets for `make run`, in var/secrets.env: made with what is missing added to a
file made before (the values already there are kept: stored messages cannot be read without
MESSAGE_KEY), and read by the commands run by hand. Standard library only: make runs it before any
environment exists.

Run: python3 bot/local_secrets.py var/secrets.env  (make does it).
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

# What `make run` keeps for this machine.
LOCAL_SECRETS = Path(__file__).resolve().parent.parent / "var" / "secrets.env"
# Each secret and how it is made: the pseudonymous ids' key, the encryption key of stored messages,
# a password per kind of process for Redis (bot/redis_server.py), and the referrals' signing key.
MADE: dict[str, Callable[[], str]] = {
    "ID_SECRET": lambda: secrets.token_hex(32),
    "MESSAGE_KEY": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "REDIS_PASSWORD_WEB": lambda: secrets.token_urlsafe(32),
    "REDIS_PASSWORD_WORKER": lambda: secrets.token_urlsafe(32),
    "REDIS_PASSWORD_RASA": lambda: secrets.token_urlsafe(32),
    "REDIS_PASSWORD_ADMIN": lambda: secrets.token_urlsafe(32),
    # This hotline's Ed25519 key for referrals to partner hotlines (bot/envelopes.py): its seed.
    "REFERRAL_KEY": lambda: base64.b64encode(os.urandom(32)).decode(),
}


def complete(path: Path) -> list[str]:
    """Adds the missing secrets to the file (made readable by its owner only); their names."""
    text = path.read_text() if path.exists() else ""
    present = {line.partition("=")[0].strip() for line in text.splitlines()}
    missing = [name for name in MADE if name not in present]
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        lines = [f"{name}={MADE[name]()}" for name in missing]
        prefix = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + prefix + "\n".join(lines) + "\n")
    path.touch()
    path.chmod(0o600)
    return missing


def env_file(path: Path) -> dict[str, str]:
    """The NAME=value lines of an env file (none when it does not exist)."""
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.lstrip().startswith("#"):
                found[name.strip()] = value.strip()
    return found


def local_env() -> dict[str, str]:
    """The environment over what var/secrets.env holds: for commands run by hand on the machine
    where `make run` runs (the admin's Redis password is only there)."""
    return env_file(LOCAL_SECRETS) | dict(os.environ)


def main() -> None:
    """Completes the file named on the command line."""
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "var/secrets.env")
    missing = complete(path)
    if missing:
        made = ", ".join(missing)
        print(f"== Made {made} in {path} (keep it: stored messages need its MESSAGE_KEY)")  # noqa: T201


if __name__ == "__main__":
    main()
