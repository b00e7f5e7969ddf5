"""The gateway's web app in-process (no servers): the headers every answer carries."""

from __future__ import annotations

import httpx
import pytest

from bot.app import create_app
from bot.settings import Settings
from tests.servers import MESSAGE_KEY


@pytest.mark.asyncio
async def test_behind_https_the_browser_is_told_to_stay_on_https() -> None:
    env = {"DEPLOYMENT": "local", "ID_SECRET": "x" * 32, "MESSAGE_KEY": MESSAGE_KEY}
    for public_url, expected in (("https://hotline.example.org", True), ("", False)):
        app = create_app(Settings.from_env({**env, "PUBLIC_URL": public_url}))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            page = await client.get("/")
        assert page.status_code == 200
        assert ("strict-transport-security" in page.headers) is expected, public_url
        assert page.headers["x-content-type-options"] == "nosniff"
