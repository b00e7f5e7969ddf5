"""Re-encrypts every stored value with the newest message key, so that an old key can be retired:
the sealed values in Redis, and the photos, recordings and files kept in MEDIA_DIR.

Rotating: put a new key first in MESSAGE_KEY ("new,old"), restart the processes (they now write with
the new key and still read the old), run `.venv/bin/python -m bot.rotate_keys` (`make rotate-keys`),
then remove the old key from MESSAGE_KEY and restart again. Values in the streams (messages being
handled, the web chat's recent replies) are not rewritten: they are gone within minutes, and the old
key must stay until they are.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import redis.asyncio as aioredis

from bot.local_secrets import local_env
from bot.media import MediaStore, media_store
from bot.redis_client import connect
from bot.settings import start_process
from bot.store.keys import PREFIX, SEALED
from bot.store.scripts import Scripts
from hotline.redis_keys import RASA_TRACKER
from hotline.sealer import Sealer


async def rotate(
    client: aioredis.Redis,
    sealer: Sealer,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Re-encrypts every sealed value at rest with the newest key (reply addresses, transcripts,
    notes, hand-off summaries, referrals, Rasa's trackers); (keys, values) rewritten. Safe while
    the gateway and Rasa run."""
    scripts = Scripts(client)
    keys = values = 0
    async for key in client.scan_iter(match="*", count=500):
        if key.startswith(RASA_TRACKER):
            kind = "string"
        elif key.startswith(f"{PREFIX}:"):
            kind = SEALED.get(key.split(":")[1], "")
        else:
            continue
        found: list[tuple[str, str]] = []
        if kind == "string":
            found = [("", await client.get(key) or "")]
        elif kind == "list":
            found = [(str(i), v) for i, v in enumerate(await client.lrange(key, 0, -1))]
        elif kind == "hash":
            found = [("handoff", await client.hget(key, "handoff") or "")]
        elif kind == "fields":  # every field sealed (a conversation's referrals)
            found = list((await client.hgetall(key)).items())
            kind = "hash"
        changed = 0
        for where, old in found:
            if old:
                args = {"kind": kind, "where": where, "old": old, "new": sealer.reseal(old)}
                changed += await scripts.run("reseal", [key], args)
        if changed:
            keys, values = keys + 1, values + changed
            if progress:
                progress(keys, values)
    return keys, values


async def run(client: aioredis.Redis, sealer: Sealer, media: MediaStore) -> None:
    """Rewrites every sealed value and kept medium, printing progress."""

    def progress(keys: int, values: int) -> None:
        print(f"\rre-encrypted {values} values in {keys} keys", end="", flush=True)  # noqa: T201

    # Progress rewrites one line on a terminal; in a log only the total is written.
    keys, values = await rotate(client, sealer, progress if sys.stdout.isatty() else None)
    print(f"\rre-encrypted {values} values in {keys} keys: done")  # noqa: T201
    files = await media.reseal()
    print(f"re-encrypted {files} photos, recordings and files")  # noqa: T201


def main() -> None:
    """Reads the settings and rotates."""
    settings = start_process("rotate-keys", user="admin", env=local_env())
    client = connect(settings.redis)
    try:
        sealer = Sealer(settings.message_key)
        asyncio.run(
            run(client, sealer, media_store(settings.media_dir, settings.media_s3_url, sealer))
        )
    except ValueError as error:
        sys.exit(f"rotate-keys: {error}; is the old key still in MESSAGE_KEY?")


if __name__ == "__main__":
    main()
