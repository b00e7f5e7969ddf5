"""The media store (bot/media.py, issue 19): types read from the content, size limits, images
without their metadata, encrypted at rest, gone with their conversation; in a folder and in an
S3-compatible bucket (moto's server on 127.0.0.1, a real HTTP server, not a mock object)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet
from moto.server import ThreadedMotoServer
from PIL import Image, PngImagePlugin

from bot.media import LIMITS, MediaStore, Refused, sniff
from bot.media_storage import Bucket, Folder, Storage
from bot.store import conversation_key
from hotline.sealer import Sealer
from tests.servers import free_port

pytestmark = pytest.mark.asyncio
CONV = "th-" + "a" * 40
OTHER = "vi-" + "b" * 40
GPS_IFD = 0x8825
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def photo_with_gps() -> bytes:
    """A camera's JPEG: EXIF with where it was taken and on what."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (13.0, 45.0, 0.0), 3: "E", 4: (100.0, 30.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def bucket_url() -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 with an empty bucket; any credentials do."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        boto3.client("s3", endpoint_url=f"http://{host}:{port}").create_bucket(Bucket="media")
        yield f"http://{host}:{port}/media/hotline"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(params=["folder", "bucket"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Each test runs on a folder and on a bucket (a fresh prefix each time)."""
    if request.param == "folder":
        return Folder(tmp_path / "media")
    url: str = request.getfixturevalue("bucket_url")
    return Bucket(f"{url}-{uuid.uuid4().hex}")


def store(storage: Storage) -> MediaStore:
    return MediaStore(storage, Sealer(Fernet.generate_key()))


async def test_a_photo_loses_its_gps_and_camera_before_it_is_kept(storage: Storage) -> None:
    sent = photo_with_gps()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS_IFD), "the test photo has GPS"
    media = store(storage)
    ref = await media.save(CONV, sent)
    assert ref["mime"] == "image/jpeg" and ref["kind"] == "image"
    found = await media.read(CONV, ref["id"])
    assert found is not None
    mime, kept = found
    image = Image.open(io.BytesIO(kept))
    assert mime == "image/jpeg" and image.size == (64, 48)
    assert not image.getexif(), "no EXIF at all: no GPS, no camera"
    at_rest = storage.get(f"{CONV}/{ref['id']}")
    assert at_rest is not None and at_rest.startswith(b"gAAAA"), "encrypted at rest"
    assert b"\xff\xd8\xff" not in at_rest


async def test_text_chunks_of_a_png_are_not_kept(storage: Storage) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at the compound gate")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG", pnginfo=info)
    media = store(storage)
    ref = await media.save(CONV, out.getvalue())
    found = await media.read(CONV, ref["id"])
    assert found is not None and b"compound" not in found[1]


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"\x00\x00\x00\x20ftypM4A \x00", "audio/mp4"),
        (b"\x00\x00\x00\x20ftypisom\x00", "video/mp4"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x00", "audio/mpeg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"\x1a\x45\xdf\xa3\x01", "video/webm"),
    ],
)
async def test_the_type_is_read_from_the_content(head: bytes, mime: str) -> None:
    found = sniff(head + b"\x00" * 64)
    assert found is not None and found.mime == mime


@pytest.mark.parametrize(
    "content", [b"MZ\x90\x00 an executable", b"PK\x03\x04 an archive", b"hello, plain text"]
)
async def test_what_the_operators_cannot_open_is_refused(storage: Storage, content: bytes) -> None:
    with pytest.raises(Refused) as refused:
        await store(storage).save(CONV, content)
    assert refused.value.reason == "type"
    assert not storage.keys(), "nothing written"


async def test_each_kind_has_a_size_limit(tmp_path: Path) -> None:
    too_big = b"%PDF-1.7\n" + b"\x00" * LIMITS["file"]
    with pytest.raises(Refused) as refused:
        await store(Folder(tmp_path)).save(CONV, too_big)
    assert refused.value.reason == "size"


async def test_a_broken_image_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Refused):
        await store(Folder(tmp_path)).save(CONV, b"\xff\xd8\xff\xe0 not really a jpeg")


async def test_media_go_with_their_conversation(storage: Storage, redis_port: int) -> None:
    client = aioredis.Redis(port=redis_port, decode_responses=True)
    await client.flushall()
    media = store(storage)
    kept = await media.save(CONV, photo_with_gps())
    gone = await media.save(OTHER, photo_with_gps())
    await client.hset(conversation_key(CONV), "state", "bot")
    assert await media.sweep(client) == 1, "the conversation that is not in Redis any more"
    assert await media.read(OTHER, gone["id"]) is None
    assert await media.read(CONV, kept["id"]) is not None
    await media.forget(CONV)
    assert await media.read(CONV, kept["id"]) is None
    assert not storage.keys(), "nothing left"
    await client.aclose()


async def test_a_path_is_never_made_from_what_a_request_says(tmp_path: Path) -> None:
    media = store(Folder(tmp_path))
    assert await media.read("../../etc", "passwd") is None
    assert await media.read(CONV, "../" + "a" * 19) is None


async def test_rotating_the_key_re_encrypts_what_is_kept(storage: Storage) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    ref = await MediaStore(storage, Sealer(old)).save(CONV, photo_with_gps())
    assert await MediaStore(storage, Sealer(new + b"," + old)).reseal() == 1
    found = await MediaStore(storage, Sealer(new)).read(CONV, ref["id"])
    assert found is not None and found[0] == "image/jpeg", "readable without the old key"
