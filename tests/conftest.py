"""Shared fixtures: the project's paths, and a real Redis server for the tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.redis_server import find_binary, wait

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    """A real Redis server for this test session, on a free port, in a temporary directory."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [find_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", data,
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        try:
            assert wait("127.0.0.1", port, 20), "Redis did not start"
            yield port
        finally:
            server.terminate()
            server.wait(10)


@pytest.fixture
def redis_client(redis_port: int) -> Iterator[redis.Redis]:
    """A client of the session's Redis, flushed before each test."""
    client = redis.Redis(host="127.0.0.1", port=redis_port, decode_responses=True)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
