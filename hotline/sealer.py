"""Encryption of what is stored about a person (Fernet): messages, transcripts, reply addresses,
Rasa's trackers. Used by the gateway and by Rasa's tracker store, with the same MESSAGE_KEY."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Sealer:
    """Encrypts stored values with the first key and decrypts with any of them (key rotation)."""

    def __init__(self, keys: bytes) -> None:
        """Takes Fernet keys (urlsafe base64 of 32 bytes), separated by commas, newest first."""
        self._fernet = MultiFernet([Fernet(k.strip()) for k in keys.split(b",") if k.strip()])

    def seal(self, value: Any) -> str:
        """The value as encrypted JSON."""
        return self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()

    def open(self, token: str, ttl: int | None = None) -> Any:
        """The value sealed by `seal` (within `ttl` seconds, when given); ValueError if the key
        does not match or it is older."""
        try:
            return json.loads(self._fernet.decrypt(token.encode(), ttl=ttl))
        except InvalidToken as error:
            raise ValueError("stored value cannot be decrypted with MESSAGE_KEY") from error

    def seal_bytes(self, data: bytes) -> bytes:
        """Bytes (a photo, a recording) encrypted."""
        return self._fernet.encrypt(data)

    def open_bytes(self, token: bytes) -> bytes:
        """The bytes sealed by `seal_bytes`; ValueError if the key does not match."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as error:
            raise ValueError("stored media cannot be decrypted with MESSAGE_KEY") from error

    def reseal_bytes(self, token: bytes) -> bytes:
        """Bytes sealed by `seal_bytes`, encrypted with the newest key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as error:
            raise ValueError("stored media cannot be decrypted with MESSAGE_KEY") from error

    def reseal(self, token: str) -> str:
        """The same value encrypted with the newest key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as error:
            raise ValueError("stored value cannot be decrypted with MESSAGE_KEY") from error
