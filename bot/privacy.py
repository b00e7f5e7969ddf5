"""Pseudonymous conversation ids and encryption of what is stored about a person.

Rasa, transcripts and the console only ever see the HMAC of a channel's user id; the address needed
to reply and every message text are stored encrypted (Fernet).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


def conversation_id(secret: bytes, channel: str, user: str) -> str:
    """The conversation's id: HMAC-SHA256 of channel and user, so the raw id is never stored."""
    digest = hmac.new(secret, f"{channel}:{user}".encode(), hashlib.sha256).hexdigest()
    return f"{channel[:2]}-{digest[:40]}"


class Sealer:
    """Encrypts and decrypts stored values with one key."""

    def __init__(self, key: bytes) -> None:
        """Takes a Fernet key (urlsafe base64 of 32 bytes)."""
        self._fernet = Fernet(key)

    def seal(self, value: Any) -> str:
        """The value as encrypted JSON."""
        return self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()

    def open(self, token: str) -> Any:
        """The value sealed by `seal`; ValueError if the key does not match."""
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as error:
            raise ValueError("stored value cannot be decrypted with MESSAGE_KEY") from error
