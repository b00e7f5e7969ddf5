"""Starts the real servers for end-to-end tests and benchmarks: Redis, the action server, Rasa."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from bot.redis_server import USERS, password_setting, server_args, wait

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, seconds: float) -> bool:
    """Waits until a URL answers; False if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.1)  # asking costs nothing; every server start waits for this
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class RedisProcess:
    """A Redis server the test controls: it can be restarted on the same port and data."""

    def __init__(self, data: Path) -> None:
        """Starts it on a free port, keeping its files in `data`."""
        self.port = free_port()
        self.data = data
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            test_server_args(self.port, self.data), stdout=subprocess.DEVNULL
        )
        if not wait("127.0.0.1", self.port, 20):
            raise RuntimeError("Redis did not start")
        return process

    def restart(self, down: float = 0.0) -> None:
        """Stops it as an operator would (SIGTERM) and starts it again, `down` seconds later."""
        _stop(self.process)
        time.sleep(down)
        self.process = self._start()

    def stop(self) -> None:
        """Stops it for good."""
        _stop(self.process)


@contextmanager
def redis_server() -> Iterator[int]:
    """A throw-away Redis server on a free port; yields the port."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            test_server_args(port, Path(data)),
            stdout=subprocess.DEVNULL,
        )
        try:
            if not wait("127.0.0.1", port, 20):
                raise RuntimeError("Redis did not start")
            yield port
        finally:
            _stop(server)


# A throw-away key for the servers of the tests and benchmarks (Rasa's trackers, the gateway).
MESSAGE_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="
REFERRAL_KEY = "cmVmZXJyYWwta2V5LW9mLXRoZS10ZXN0LWhvdGxpbmU="
# Throw-away Redis passwords: the processes under test sign in as their users (web, worker, rasa),
# so that the server's rules are tried; the harness itself uses the default user.
REDIS_PASSWORDS = {kind: f"test-password-{kind}" for kind in USERS}
TELEGRAM_BOT = "hotline_test_bot"
LINE_ACCOUNT = "@hotline-test"


def test_server_args(port: int, data: Path) -> list[str]:
    """A Redis server like `make run`'s, whose default user the harness may use."""
    return server_args(port, data, REDIS_PASSWORDS, open_default=True)


def environment(redis_port: int, actions_port: int, max_events: int = 60) -> dict[str, str]:
    """The settings `make run` passes, pointed at these servers."""
    return {
        **os.environ,
        # Throw-away secrets: fine for a test machine only.
        "DEPLOYMENT": "local",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_port),
        "REDIS_SENTINELS": "",
        "REDIS_MASTER_NAME": "hotline",
        "ACTIONS_PORT": str(actions_port),
        "TRACKER_MAX_EVENTS": str(max_events),
        "TRACKER_EXPIRY_SECONDS": "3600",
        "MESSAGE_KEY": MESSAGE_KEY,
        **{password_setting(kind): password for kind, password in REDIS_PASSWORDS.items()},
        "SANIC_HOST": "127.0.0.1",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # For the console's NGO share kit: the links it makes name these accounts.
        "TELEGRAM_BOT_USERNAME": TELEGRAM_BOT,
        "LINE_ACCOUNT_ID": LINE_ACCOUNT,
    }


@contextmanager
def action_server(env: dict[str, str], logs: Path) -> Iterator[None]:
    """`rasa run actions` on the port in env."""
    port = env["ACTIONS_PORT"]
    process = subprocess.Popen(
        [RASA, "run", "actions", "--port", port, "--actions", "actions"],
        cwd=ROOT,
        env=env,
        stdout=open(logs / "actions.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        if not wait_http(f"http://127.0.0.1:{port}/health", 120):
            raise RuntimeError("action server did not start:\n" + _tail(logs / "actions.log"))
        yield
    finally:
        _stop(process)


@contextmanager
def rasa_server(
    model: Path, env: dict[str, str], logs: Path, endpoints: Path = ROOT / "endpoints.yml"
) -> Iterator[tuple[str, int]]:
    """`rasa run` with the REST channel; yields its URL and process id."""
    port = free_port()
    log = logs / f"rasa-{port}.log"
    process = subprocess.Popen(
        [
            RASA,
            "run",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            model,
            "--endpoints",
            endpoints,
            "--credentials",
            ROOT / "credentials.yml",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        if not wait_http(f"http://127.0.0.1:{port}/", 300):
            raise RuntimeError("Rasa did not start:\n" + _tail(log))
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        _stop(process)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


PYTHON = ROOT / ".venv" / "bin" / "python"


def gateway_environment(env: dict[str, str], rasa_url: str) -> dict[str, str]:
    """The gateway's settings for these servers, with throw-away secrets."""
    return {
        **env,
        "RASA_URL": rasa_url,
        "BOT_PORT": str(free_port()),
        "ID_SECRET": "test-id-secret",
        # This hotline's referral key (bot/envelopes.py): a fixed seed, base64.
        "REFERRAL_KEY": REFERRAL_KEY,
        # Every test's person writes from 127.0.0.1: the limits per address are for one person.
        "LIMIT_WEB_ADDRESS": "100000/10",
        "LIMIT_WEB_ADDRESS_MINUTE": "100000/60",
        "LIMIT_WEB_PAGES": "100000/60",
    }


@contextmanager
def gateway(env: dict[str, str], logs: Path, metrics_port: int | None = None) -> Iterator[str]:
    """`python -m handoff.web` (webhooks, web chat, operator console), its internal port on
    `metrics_port` or a free one; yields its URL."""
    url = f"http://127.0.0.1:{env['BOT_PORT']}"
    process = subprocess.Popen(
        [PYTHON, "-m", "handoff.web"],
        cwd=ROOT,
        env={**env, "METRICS_PORT": str(metrics_port or free_port())},
        stdout=open(logs / "bot.log", "ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        if not wait_http(f"{url}/health", 60):
            raise RuntimeError("the gateway did not start:\n" + _tail(logs / "bot.log"))
        yield url
    finally:
        _stop(process)


def start_worker(
    env: dict[str, str], logs: Path, name: str, port: int | None = None
) -> subprocess.Popen[bytes]:
    """`python -m bot.worker` (router and senders) under a consumer name, its internal port on
    `port` or a free one; the caller stops it."""
    return subprocess.Popen(
        [PYTHON, "-m", "bot.worker"],
        cwd=ROOT,
        env={**env, "WORKER_NAME": name, "WORKER_PORT": str(port or free_port())},
        stdout=open(logs / f"worker-{name}.log", "ab"),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stops a process politely, then firmly."""
    _stop(process)


# Redis Sentinel's name of the primary in the tests (REDIS_MASTER_NAME).
SENTINEL_MASTER = "hotline"


@contextmanager
def started(command: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait("127.0.0.1", port, 20):
            raise RuntimeError(f"{command[0]} did not start on {port}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def replica_args(primary_host: str, primary_port: int) -> list[str]:
    """The options that make a test server a replica of the primary, signed in as admin."""
    return [
        *("--replicaof", primary_host, str(primary_port)),
        *("--masteruser", "admin", "--masterauth", REDIS_PASSWORDS["admin"]),
    ]


def sentinel_config(
    folder: Path,
    port: int,
    bind: str,
    primary: tuple[str, int],
    down_after_ms: int = 1000,
    failover_timeout_ms: int = 3000,
) -> Path:
    """A Sentinel's configuration file in `folder` (it rewrites it, so each has its own),
    watching `primary` as SENTINEL_MASTER with a quorum of 2."""
    config = folder / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind {bind}\ndir {folder}\n"
        f"sentinel monitor {SENTINEL_MASTER} {primary[0]} {primary[1]} 2\n"
        f"sentinel auth-user {SENTINEL_MASTER} admin\n"
        f"sentinel auth-pass {SENTINEL_MASTER} {REDIS_PASSWORDS['admin']}\n"
        f"sentinel down-after-milliseconds {SENTINEL_MASTER} {down_after_ms}\n"
        f"sentinel failover-timeout {SENTINEL_MASTER} {failover_timeout_ms}\n"
    )
    return config


@contextmanager
def sentinel_cluster() -> Iterator[tuple[subprocess.Popen[bytes], int, list[int]]]:
    """A primary, a replica and three Sentinels on free ports; yields the primary's process, its
    port and the Sentinels' ports."""
    primary_port, replica_port = free_port(), free_port()
    sentinel_ports = [free_port() for _ in range(3)]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        for name in ("primary", "replica", *map(str, sentinel_ports)):
            (data / name).mkdir()
        replica = test_server_args(replica_port, data / "replica") + replica_args(
            "127.0.0.1", primary_port
        )
        commands = [(test_server_args(primary_port, data / "primary"), primary_port)]
        commands.append((replica, replica_port))
        for port in sentinel_ports:
            config = sentinel_config(
                data / str(port), port, "127.0.0.1", ("127.0.0.1", primary_port)
            )
            commands.append((["redis-server", str(config), "--sentinel"], port))
        with (
            started(*commands[0]) as primary,
            started(*commands[1]),
            started(*commands[2]),
            started(*commands[3]),
            started(*commands[4]),
        ):
            in_sync(replica_port)
            yield primary, primary_port, sentinel_ports


def in_sync(port: int, seconds: float = 20, host: str = "127.0.0.1") -> None:
    """Waits until the replica has copied the primary (a healthy cluster, before the load)."""
    admin = REDIS_PASSWORDS["admin"]
    replica = redis.Redis(
        host=host, port=port, username="admin", password=admin, decode_responses=True
    )
    for _ in range(int(seconds * 10)):
        if replica.info("replication").get("master_link_status") == "up":
            return
        time.sleep(0.1)
    raise RuntimeError("the replica did not copy the primary")
