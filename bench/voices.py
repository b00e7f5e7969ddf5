"""The texts read aloud (🔊): what making a sound costs the first time a text is listened to
(espeak-ng, then ffmpeg to OGG Opus and to M4A, sealed and written), what every later listen costs
(read and opened), how large the sounds are, and what a supervisor's 30-second recording costs to
keep. Runs bot/voices.py with a throw-away Redis and a temporary folder; no stack.

Usage: .venv/bin/python bench/voices.py [--reads 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import math
import socket
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import redis.asyncio as aioredis
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.console import percentile  # noqa: E402
from bot.media_storage import Folder  # noqa: E402
from bot.redis_server import checked_binary, wait  # noqa: E402
from bot.voices import Voices, texts  # noqa: E402
from hotline.sealer import Sealer  # noqa: E402


def tone(seconds: float) -> bytes:
    """A WAV recording of a tone, as a phone would record a voice (16 kHz mono)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(16000)
        samples = (
            int(8000 * math.sin(2 * math.pi * 220 * n / 16000)) for n in range(int(16000 * seconds))
        )
        sound.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
    return out.getvalue()


async def main(args: argparse.Namespace) -> None:
    """Starts Redis, makes every Thai and Vietnamese text's sound, reads them, keeps a recording."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [checked_binary(), "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        assert wait("127.0.0.1", port, 10), "Redis did not start"
        client = aioredis.Redis(port=port, decode_responses=True)
        with tempfile.TemporaryDirectory() as folder:
            sounds = Voices(client, Folder(Path(folder)), Sealer(Fernet.generate_key()))
            made: list[float] = []
            lengths: list[float] = []
            sizes: dict[str, list[int]] = {"ogg": [], "m4a": []}
            for name in texts():
                for language in ("th", "vi"):
                    start = time.perf_counter()
                    found = await sounds.sound(name, language, "ogg")
                    made.append(time.perf_counter() - start)
                    assert found is not None
                    lengths.append(found.seconds)
                    for form in sizes:
                        kept = await sounds.sound(name, language, form)
                        assert kept is not None
                        sizes[form].append(len(kept.data))
            read: list[float] = []
            names = list(texts())
            for n in range(args.reads):
                start = time.perf_counter()
                await sounds.sound(names[n % len(names)], "th", "ogg")
                read.append(time.perf_counter() - start)
            start = time.perf_counter()
            await sounds.record("menu", "km", tone(30), "bench", dt.date.today())
            recorded = time.perf_counter() - start
        await client.aclose()
    finally:
        server.terminate()
        server.wait()

    print(
        f"{len(made)} texts (Thai and Vietnamese), spoken {min(lengths):.1f}-{max(lengths):.1f} s"
    )
    print(f"{'':<58}{'n':>5}{'p50 ms':>9}{'max ms':>9}")
    rows = (
        ("first listen: espeak-ng + ffmpeg (OGG, M4A), kept", made),
        ("a later listen: read and opened (OGG)", read),
    )
    for label, seconds in rows:
        p50, top = percentile(seconds, 50) * 1000, max(seconds) * 1000
        print(f"{label:<58}{len(seconds):>5}{p50:>9.1f}{top:>9.1f}")
    for form, weights in sizes.items():
        print(f"{form}: {sum(weights) / len(weights) / 1024:.1f} KB a text on average")
    print(f"a supervisor's 30 s recording (WAV, 0.9 MB) kept in both forms: {recorded:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
