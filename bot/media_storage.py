"""Where kept media lie (bot/media.py seals them first): a folder (MEDIA_DIR, for one server), or
an S3-compatible bucket (MEDIA_S3_URL: Amazon S3, MinIO, Cloudflare R2, a cloud provider's object
store) when several servers share them. Each medium is one object, `<conversation>/<id>`; what a
conversation sent is removed by its prefix. The sounds of bot/voices.py lie beside them, under
`voices/`. Calls are synchronous: the media store runs them in a
thread."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


class Storage(Protocol):
    """A place for sealed media, by key `<conversation>/<id>`."""

    def put(self, key: str, data: bytes) -> None:
        """Stores an object, replacing any of the same key."""

    def get(self, key: str) -> bytes | None:
        """An object's bytes; None when there is none."""

    def delete(self, key: str) -> None:
        """Removes one object, if there is one."""

    def remove(self, conv: str) -> None:
        """Removes every object of a conversation."""

    def conversations(self) -> list[str]:
        """The conversations that have objects."""

    def keys(self) -> list[str]:
        """Every object's key."""


class Folder:
    """Media as files: `<folder>/<conversation>/<id>`, written whole or not at all."""

    def __init__(self, folder: Path) -> None:
        """Uses `folder`, made when first needed."""
        self.folder = folder

    def put(self, key: str, data: bytes) -> None:
        """Writes a file (a partial one is renamed in place when complete)."""
        path = self.folder / key
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, key: str) -> bytes | None:
        """A file's bytes; None when there is none."""
        try:
            return (self.folder / key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        """Removes one file, if there is one."""
        (self.folder / key).unlink(missing_ok=True)

    def remove(self, conv: str) -> None:
        """Removes a conversation's folder."""
        shutil.rmtree(self.folder / conv, ignore_errors=True)

    def conversations(self) -> list[str]:
        """The conversations' folders."""
        if not self.folder.is_dir():
            return []
        return [path.name for path in self.folder.iterdir() if path.is_dir()]

    def keys(self) -> list[str]:
        """Every file's key."""
        if not self.folder.is_dir():
            return []
        return [f"{path.parent.name}/{path.name}" for path in self.folder.glob("*/*")]


class Bucket:
    """Media as objects of an S3-compatible bucket, named by a URL: `https://<endpoint>/<bucket>`
    with an optional `/<prefix>` (path-style, as MinIO and most providers serve). Credentials
    come as for any AWS client: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the machine's
    role."""

    def __init__(self, url: str) -> None:
        """Parses the URL; ValueError when it names no bucket."""
        parts = urlsplit(url)
        bucket, _, prefix = parts.path.strip("/").partition("/")
        if parts.scheme not in ("http", "https") or not parts.netloc or not bucket:
            raise ValueError("MEDIA_S3_URL: expected https://<endpoint>/<bucket>[/<prefix>]")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        config = Config(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        endpoint = f"{parts.scheme}://{parts.netloc}"
        self.s3 = boto3.client("s3", endpoint_url=endpoint, config=config)

    def put(self, key: str, data: bytes) -> None:
        """Uploads an object."""
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def get(self, key: str) -> bytes | None:
        """An object's bytes; None when there is none."""
        try:
            found = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        data: bytes = found["Body"].read()
        return data

    def delete(self, key: str) -> None:
        """Deletes one object (S3 answers the same whether there was one or not)."""
        self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def remove(self, conv: str) -> None:
        """Deletes a conversation's objects, a thousand per request."""
        keys = self._listed(f"{self.prefix}{conv}/")
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def conversations(self) -> list[str]:
        """The conversations that have objects (the prefixes under this one)."""
        found: list[str] = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                found.append(common["Prefix"][len(self.prefix) :].rstrip("/"))
        return found

    def keys(self) -> list[str]:
        """Every object's key."""
        return [key[len(self.prefix) :] for key in self._listed(self.prefix)]

    def _listed(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


def storage(media_dir: Path, media_s3_url: str) -> Storage:
    """The bucket MEDIA_S3_URL names, else the folder MEDIA_DIR."""
    return Bucket(media_s3_url) if media_s3_url else Folder(media_dir)
