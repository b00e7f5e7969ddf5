"""Re-encrypts every stored value with the newest message key, so that an old key can be retired.

Rotating: put a new key first in MESSAGE_KEY ("new,old"), restart the processes (they now write with
the new key and still read the old), run `.venv/bin/python -m bot.rotate_keys` (`make rotate-keys`),
then remove the old key from MESSAGE_KEY and restart again. Values in the streams (messages being
handled, the web chat's recent replies) are not rewritten: they are gone within minutes, and the old
key must stay until they are.
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis

from bot.local_secrets import local_env
from bot.settings import start_process
from bot.store import rotate
from hotline.sealer import Sealer


async def run(client: aioredis.Redis, sealer: Sealer) -> None:
    """Rewrites every sealed value, printing progress."""

    def progress(keys: int, values: int) -> None:
        print(f"\rre-encrypted {values} values in {keys} keys", end="", flush=True)  # noqa: T201

    # Progress rewrites one line on a terminal; in a log only the total is written.
    keys, values = await rotate(client, sealer, progress if sys.stdout.isatty() else None)
    print(f"\rre-encrypted {values} values in {keys} keys: done")  # noqa: T201


def main() -> None:
    """Reads the settings and rotates."""
    settings = start_process("rotate-keys", user="admin", env=local_env())
    client = aioredis.Redis(**settings.redis.options(), decode_responses=True)
    try:
        asyncio.run(run(client, Sealer(settings.message_key)))
    except ValueError as error:
        sys.exit(f"rotate-keys: {error}; is the old key still in MESSAGE_KEY?")


if __name__ == "__main__":
    main()
