"""Shared fixtures: the project's paths, and a real Redis server for the tests that need one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.servers import ROOT, action_server, environment, free_port, rasa_server, redis_server

MODEL = ROOT / "models" / "assistant.tar.gz"
# Fixtures that start more than a Redis (Rasa, the whole stack, a browser): the tests that use one
# are the slow tier, left out by `make test-fast`.
SLOW_FIXTURES = {"rasa_url", "stack", "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `servers` every test that uses a slow fixture."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)


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


@pytest.fixture(scope="session")
def rasa_url(redis_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Rasa and the action server, started as `make run` starts them, on free ports."""
    if not MODEL.exists():
        pytest.fail("No trained model: `make test` trains one first (make train).")
    env = environment(redis_port, free_port())
    logs = tmp_path_factory.mktemp("logs")
    with action_server(env, logs), rasa_server(MODEL, env, logs) as (url, _):
        yield url
