"""Redis Sentinel (issue 18): the gateway follows the primary through a failover, and a message
accepted before the primary dies is still there after it (it was on a replica: WAIT)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import pytest
from redis import Redis
from redis.exceptions import RedisError
from redis.sentinel import Sentinel

from bot.redis_client import connect
from bot.settings import redis_login
from bot.store import INBOUND, Inbound, Store
from tests.servers import MESSAGE_KEY, REDIS_PASSWORDS, SENTINEL_MASTER, sentinel_cluster

pytestmark = pytest.mark.asyncio


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
            "REDIS_MASTER_NAME": SENTINEL_MASTER,
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
        admin = Redis(host=host, port=port, username="admin", password=REDIS_PASSWORDS["admin"])
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


async def test_a_command_tried_again_after_a_failover_goes_to_the_new_primary() -> None:
    """A command whose connection broke is tried again on a connection that reconnects: it must
    ask the Sentinels where the primary is now. redis-py 8 reconnected to the dead primary's
    address, and the cluster test saw a worker stand still for half a minute."""
    with sentinel_cluster() as (primary, primary_port, sentinel_ports):
        env = {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in sentinel_ports),
            "REDIS_MASTER_NAME": SENTINEL_MASTER,
            "REDIS_PASSWORD_WORKER": REDIS_PASSWORDS["worker"],
        }
        client = connect(redis_login(env, "worker"))
        connection = await client.connection_pool.get_connection()
        assert connection.port == primary_port
        os.kill(primary.pid, signal.SIGKILL)
        sentinel = Sentinel([("127.0.0.1", port) for port in sentinel_ports])
        for _ in range(200):
            with contextlib.suppress(RedisError):  # none named while they fail over
                if sentinel.discover_master(SENTINEL_MASTER)[1] != primary_port:
                    break
            await asyncio.sleep(0.1)
        # What a command's retry does with a broken connection: drop it and send again.
        await connection.disconnect()
        await connection.send_command("PING")
        assert await connection.read_response() == "PONG"
        assert connection.port != primary_port, "reconnected to the new primary"
        await client.connection_pool.release(connection)
        await client.aclose()
