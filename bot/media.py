"""What people send besides text: photos, voice messages, audio, video and files, kept for the
operators. Each is encrypted (MESSAGE_KEY) in a folder (MEDIA_DIR; var/media for `make run`) or
an S3-compatible bucket (MEDIA_S3_URL), one folder or prefix per conversation
(bot/media_storage.py), and lives only as long as its conversation: "forget me" removes it, and
the sweep removes those of conversations that expired. Redis holds only a reference in the
transcript. The type is read from the content, never from a name or a declared type; each kind
has a size limit; images lose their metadata (EXIF, GPS, the camera) before they are stored: a
person who wants to share where they are sends a location, on purpose.
"""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.media_storage import Storage, storage
from bot.store import conversation_key
from hotline.sealer import Sealer

MB = 1024 * 1024
# The most each kind may weigh. Telegram lets a bot download files of up to 20 MB.
LIMITS = {"image": 10 * MB, "audio": 20 * MB, "video": 20 * MB, "file": 20 * MB}
MOST_BYTES = max(LIMITS.values())
# Larger images are refused rather than decoded (a small file can hold a huge image).
MOST_PIXELS = 40_000_000
CONV = re.compile(r"^[a-z]{2}-[0-9a-f]{40}$")
MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
# Where the person's page and LINE fetch what an operator sent (bot/webchat.py), by a link.
FILES_PATH = "/chat/files"
# How long a link to a medium an operator sent works (bot/webchat.py serves it): the web chat's
# page shows it from one, and LINE fetches what it shows from one (it takes public URLs only).
LINK_SECONDS = {"web": 3600, "line": 7 * 24 * 3600}
# The side of the small copy LINE shows in the chat before the photo is opened (at most 1 MB).
PREVIEW_PIXELS = 240
# Images re-encoded without their metadata, and the format Pillow writes them in.
CLEANED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class Refused(ValueError):
    """Media that is not kept: `reason` is "type" (not a kind the operators can open) or "size"."""

    def __init__(self, reason: str) -> None:
        """Says why."""
        super().__init__(f"media refused: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Found:
    """What the content is: its media type and kind (image, audio, video, file)."""

    mime: str
    kind: str


# What a file starts with, for the types told by their first bytes alone.
STARTS = (
    (b"\xff\xd8\xff", Found("image/jpeg", "image")),
    (b"\x89PNG\r\n\x1a\n", Found("image/png", "image")),
    (b"GIF87a", Found("image/gif", "image")),
    (b"GIF89a", Found("image/gif", "image")),
    (b"%PDF-", Found("application/pdf", "file")),
    (b"OggS", Found("audio/ogg", "audio")),
    (b"ID3", Found("audio/mpeg", "audio")),
    (b"\x1a\x45\xdf\xa3", Found("video/webm", "video")),
)

# A RIFF file's form type, after its size.
RIFF = {b"WEBP": Found("image/webp", "image"), b"WAVE": Found("audio/wav", "audio")}


def sniff(data: bytes) -> Found | None:
    """The type the first bytes show; None for anything else (an executable, an archive, text)."""
    head = data[:16]
    for start, found in STARTS:
        if head.startswith(start):
            return found
    if head[:4] == b"RIFF" and head[8:12] in RIFF:
        return RIFF[head[8:12]]
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MP3 frame
        return Found("audio/mpeg", "audio")
    if head[4:8] == b"ftyp":
        if head[8:12] in (b"M4A ", b"M4B "):
            return Found("audio/mp4", "audio")
        return Found("video/mp4", "video")
    return None


def without_metadata(data: bytes, mime: str) -> bytes:
    """A JPEG, PNG or WebP image re-encoded without EXIF, GPS or text chunks, turned as the camera
    meant it; other media as they are. Refused for an image that cannot be read or is too big."""
    if mime not in CLEANED:
        return data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MOST_PIXELS:
                    raise Refused("size")
                turned = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                options = {} if mime == "image/png" else {"quality": 90}
                turned.save(out, CLEANED[mime], **options)
                return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning) as error:
        raise Refused("type") from error
    except Image.DecompressionBombError as error:
        raise Refused("size") from error


class MediaStore:
    """The encrypted media of each conversation, in a folder or a bucket (bot/media_storage.py)."""

    def __init__(self, storage: Storage, sealer: Sealer) -> None:
        """Keeps media in `storage`, encrypted by `sealer`."""
        self.storage = storage
        self.sealer = sealer

    async def save(self, conv: str, data: bytes) -> dict[str, Any]:
        """Keeps a person's media; the reference the transcript holds: id, type, kind, size."""
        found = sniff(data)
        if found is None:
            raise Refused("type")
        if len(data) > LIMITS[found.kind]:
            raise Refused("size")
        clean = await asyncio.to_thread(without_metadata, data, found.mime)
        media_id = secrets.token_urlsafe(16)
        sealed = self.sealer.seal_bytes(found.mime.encode() + b"\n" + clean)
        await asyncio.to_thread(self.storage.put, _key(conv, media_id), sealed)
        return {"id": media_id, "mime": found.mime, "kind": found.kind, "size": len(clean)}

    async def read(self, conv: str, media_id: str) -> tuple[str, bytes] | None:
        """A kept medium's type and bytes; None when there is none (forgotten, or never)."""
        try:
            key = _key(conv, media_id)
        except ValueError:
            return None
        sealed = await asyncio.to_thread(self.storage.get, key)
        if sealed is None:
            return None
        mime, _, data = self.sealer.open_bytes(sealed).partition(b"\n")
        return mime.decode(), data

    def link(self, conv: str, media_id: str, use: str) -> str:
        """A token that opens one medium for the web chat's page or for LINE (`use`); in a URL it
        names neither the conversation nor the medium, and it expires (LINK_SECONDS)."""
        return self.sealer.seal({"conv": conv, "id": media_id, "use": use})

    def linked(self, token: str) -> tuple[str, str] | None:
        """The conversation and medium a token opens, while it has not expired."""
        try:
            found = self.sealer.open(token, ttl=max(LINK_SECONDS.values()))
            if not isinstance(found, dict) or found.get("use") not in LINK_SECONDS:
                return None
            self.sealer.open(token, ttl=LINK_SECONDS[found["use"]])
        except ValueError:
            return None
        conv, media_id = str(found.get("conv", "")), str(found.get("id", ""))
        return (conv, media_id) if CONV.match(conv) and MEDIA_ID.match(media_id) else None

    async def forget(self, conv: str) -> None:
        """Removes every medium of the conversation."""
        if CONV.match(conv):
            await asyncio.to_thread(self.storage.remove, conv)

    async def sweep(self, client: aioredis.Redis) -> int:
        """Removes the media of conversations no longer in Redis (forgotten or expired); how many
        conversations' media went."""
        convs = [
            conv for conv in await asyncio.to_thread(self.storage.conversations) if CONV.match(conv)
        ]
        async with client.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.exists(conversation_key(conv))
            alive = await pipe.execute()
        gone = [conv for conv, exists in zip(convs, alive, strict=True) if not exists]
        for conv in gone:
            await self.forget(conv)
        return len(gone)

    async def reseal(self) -> int:
        """Re-encrypts every kept medium with the newest key (bot/rotate_keys.py); how many."""
        return await asyncio.to_thread(self._reseal_all)

    def _reseal_all(self) -> int:
        done = 0
        for key in self.storage.keys():
            sealed = self.storage.get(key)
            if sealed is not None:
                self.storage.put(key, self.sealer.reseal_bytes(sealed))
                done += 1
        return done


def preview(data: bytes) -> bytes:
    """A small JPEG of an image (LINE's preview)."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB")
        small.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
        return out.getvalue()


def media_store(media_dir: Path, media_s3_url: str, sealer: Sealer) -> MediaStore:
    """The media store the settings name (MEDIA_S3_URL's bucket, else MEDIA_DIR)."""
    return MediaStore(storage(media_dir, media_s3_url), sealer)


def _key(conv: str, media_id: str) -> str:
    if not CONV.match(conv) or not MEDIA_ID.match(media_id):
        raise ValueError("not a conversation's medium")
    return f"{conv}/{media_id}"
