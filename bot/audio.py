"""Sound made and converted by the system's programs: speech from espeak-ng (Thai and Vietnamese;
it has no Khmer), and ffmpeg for the forms the channels play: OGG Opus (Telegram's voice
messages) and M4A (LINE's audio messages, and every browser). `make` installs both programs."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

# espeak-ng's voice for each language it can speak; Khmer is not among them.
SPEAKERS = {"th": "th", "vi": "vi"}
# Words per minute: a little slower than espeak-ng's 175, for people who read little.
SPEED = 150
# One program run may take this long (a minute of speech converts in well under a second).
RUN_SECONDS = 60
# The forms kept of every sound, with what ffmpeg makes each of.
FORMS = {
    "ogg": ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
    "m4a": ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "-f", "ipod"],
}
# Recordings longer than this are refused (a question read aloud takes seconds).
LONGEST_SECONDS = 180


class AudioError(RuntimeError):
    """A program could not make or read the sound (missing, failed, or the input is not sound)."""


def can_speak(language: str) -> bool:
    """Whether speech can be made for the language here (espeak-ng installed and has a voice)."""
    return language in SPEAKERS and shutil.which("espeak-ng") is not None


async def speak(text: str, language: str) -> bytes:
    """The text read aloud by espeak-ng, as a WAV file."""
    if not can_speak(language):
        raise AudioError(f"no speech synthesis for {language!r} here (is espeak-ng installed?)")
    return await _run(
        ["espeak-ng", "-v", SPEAKERS[language], "-s", str(SPEED), "--stdout", "-b", "1"],
        text.encode(),
    )


async def convert(data: bytes, form: str) -> bytes:
    """Any sound ffmpeg reads (WAV, OGG, WebM, MP3, M4A, a video's sound) in `form`, mono."""
    with tempfile.TemporaryDirectory(prefix="audio-") as folder:
        source, made = Path(folder) / "in", Path(folder) / f"out.{form}"
        source.write_bytes(data)
        command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(source)]
        command += ["-vn", "-ac", "1", "-t", str(LONGEST_SECONDS), *FORMS[form], str(made)]
        await _run(command)
        return made.read_bytes()


async def seconds(data: bytes) -> float:
    """How long a sound lasts, as ffprobe reads it."""
    with tempfile.TemporaryDirectory(prefix="audio-") as folder:
        source = Path(folder) / "in"
        source.write_bytes(data)
        command = ["ffprobe", "-v", "error", "-show_entries", "format=duration"]
        found = await _run([*command, "-of", "csv=p=0", str(source)])
    try:
        return float(found.strip())
    except ValueError:
        raise AudioError("ffprobe found no duration: not a sound") from None


async def _run(command: list[str], given: bytes = b"") -> bytes:
    """A program's output; AudioError when it is missing, fails or takes too long."""
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise AudioError(f"{command[0]} is not installed (make installs it)") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(given), RUN_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AudioError(f"{command[0]} took over {RUN_SECONDS} s") from None
    if process.returncode != 0:
        raise AudioError(f"{command[0]} failed: {err.decode(errors='replace').strip()[:200]}")
    return out
