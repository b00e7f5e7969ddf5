"""Shared fixtures: the project's paths, and a real Redis server for the tests that need one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.servers import redis_server


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    """A real Redis server for this test session, on a free port, in a temporary directory."""
    with redis_server() as port:
        yield port


@pytest.fixture
def redis_client(redis_port: int) -> Iterator[redis.Redis]:
    """A client of the session's Redis, flushed before each test."""
    client = redis.Redis(host="127.0.0.1", port=redis_port, decode_responses=True)
    client.flushall()
    yield client
    client.close()
