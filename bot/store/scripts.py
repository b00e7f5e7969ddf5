"""The Lua scripts that change several keys at once, each in its own file in scripts/.

A script names its KEYS as locals on top and takes its arguments as one JSON object (ARGV[1]) whose
fields it also names on top, so that Python and Lua name each argument the same way. Every value is
a string or a list of strings (Lua turns a string into a number where it counts). Scripts that add
to a shared stream call `indexed` (scripts/indexed.lua, put before them here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

DIRECTORY = Path(__file__).parent / "scripts"


@cache
def source(name: str) -> str:
    """The Lua of one script, with the shared `indexed` function when it uses it."""
    text = (DIRECTORY / f"{name}.lua").read_text(encoding="utf-8")
    if "indexed(" in text:
        text = (DIRECTORY / "indexed.lua").read_text(encoding="utf-8") + text
    return text


def argv(args: Mapping[str, object]) -> str:
    """The arguments as the JSON object a script reads, numbers as text."""
    return json.dumps(
        {
            name: [str(item) for item in value] if isinstance(value, list | tuple) else str(value)
            for name, value in args.items()
        },
        ensure_ascii=False,
    )


class Scripts:
    """The scripts, registered with one Redis client."""

    def __init__(self, client: aioredis.Redis) -> None:
        """Registers each script when it is first run."""
        self._client = client
        self._registered: dict[str, AsyncScript] = {}

    async def run(
        self, name: str, keys: Sequence[str], args: Mapping[str, object], client: Any = None
    ) -> Any:
        """Runs a script (in a pipeline when `client` is one)."""
        script = self._registered.get(name)
        if script is None:
            script = self._registered[name] = self._client.register_script(source(name))
        return await script(keys=list(keys), args=[argv(args)], client=client)
