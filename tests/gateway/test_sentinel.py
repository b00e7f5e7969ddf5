"""Redis Sentinel (issue 18): the gateway follows the primary through a failover, and a message
accepted before the primary dies is still there after it (it was on a replica: WAIT)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from redis.exceptions import RedisError

from bot.redis_client import connect
from bot.redis_server import wait
from bot.settings import redis_login
from bot.store import INBOUND, Inbound, Store
from tests import servers
from tests.servers import MESSAGE_KEY, REDIS_PASSWORDS, free_port

pytestmark = pytest.mark.asyncio
MASTER = "hotline"
ADMIN = REDIS_PASSWORDS["admin"]


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
        replica = [
            *servers.test_server_args(replica_port, data / "replica"),
            *("--replicaof", "127.0.0.1", str(primary_port)),
            *("--masteruser", "admin", "--masterauth", ADMIN),
        ]
        commands = [(servers.test_server_args(primary_port, data / "primary"), primary_port)]
        commands.append((replica, replica_port))
        for port in sentinel_ports:
            config = data / str(port) / "sentinel.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {config.parent}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n"
                f"sentinel auth-user {MASTER} admin\nsentinel auth-pass {MASTER} {ADMIN}\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 3000\n"
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


def in_sync(port: int, seconds: float = 20) -> None:
    """Waits until the replica has copied the primary (a healthy cluster, before the load)."""
    replica = redis.Redis(port=port, username="admin", password=ADMIN, decode_responses=True)
    for _ in range(int(seconds * 10)):
        if replica.info("replication").get("master_link_status") == "up":
            return
        time.sleep(0.1)
    raise RuntimeError("the replica did not copy the primary")


def message(number: int) -> Inbound:
    return Inbound("webchat", f"person-{number}", f"event-{number}", text=f"message {number}")


async def accepted(store: Store, number: int, seconds: float = 30) -> None:
    """Accepts a message as the web process does; while Redis fails over, the channel is told
    to try again, as it would be, until it is accepted."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await store.accept(message(number))
            return
        except RedisError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_the_gateway_follows_the_primary_and_loses_no_accepted_message() -> None:
    with sentinel_cluster() as (primary, primary_port, sentinel_ports):
        env = {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in sentinel_ports),
            "REDIS_MASTER_NAME": MASTER,
            "REDIS_PASSWORD_WEB": REDIS_PASSWORDS["web"],
        }
        login = redis_login(env, "web")
        assert login.wait_replicas == 1, "with Sentinels an accepted message waits for a replica"
        client = connect(login, max_connections=8)
        store = Store(client, b"k" * 32, MESSAGE_KEY.encode(), 3600, login.wait_replicas)
        for number in range(20):
            await accepted(store, number)
        os.kill(primary.pid, signal.SIGKILL)
        for number in range(20, 40):
            await accepted(store, number)

        host, port = await client.connection_pool.get_master_address()
        assert port != primary_port, "the replica was promoted and the client found it"
        admin = redis.Redis(host=host, port=port, username="admin", password=ADMIN)
        assert admin.xlen(INBOUND) == 40, "every accepted message, once"
        await client.aclose()


async def test_a_message_is_accepted_when_no_replica_answers(
    redis_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """With no replica there is nothing to fail over to: waiting for one must not refuse people."""
    env = {"REDIS_PORT": str(redis_port), "REDIS_PASSWORD_WEB": REDIS_PASSWORDS["web"]}
    login = redis_login({**env, "REDIS_WAIT_REPLICAS": "1"}, "web")
    client = connect(login)
    store = Store(client, b"k" * 32, MESSAGE_KEY.encode(), 3600, login.wait_replicas)
    assert await store.accept(message(1000)) is not None
    assert "an accepted message is on 0 of 1 replicas" in caplog.text
    await client.aclose()
