"""Fixtures of the gateway tests (services' environment): a store on the session's real Redis."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest_asyncio
import redis.asyncio as aioredis

from bot.store import Store

ID_SECRET = b"test-id-secret"
MESSAGE_KEY = base64.urlsafe_b64encode(b"k" * 32)


@pytest_asyncio.fixture
async def store(redis_port: int) -> AsyncIterator[Store]:
    """A store on a flushed Redis."""
    client = aioredis.Redis(host="127.0.0.1", port=redis_port, decode_responses=True)
    await client.flushall()
    yield Store(client, ID_SECRET, MESSAGE_KEY, ttl=3600)
    await client.aclose()
