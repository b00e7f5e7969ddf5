"""Pseudonymous conversation ids: Rasa, transcripts and the console only ever see the HMAC of a
channel's user id (what is stored about the person is encrypted: hotline/sealer.py)."""

from __future__ import annotations

import hashlib
import hmac


def conversation_id(secret: bytes, channel: str, user: str) -> str:
    """The conversation's id: HMAC-SHA256 of channel and user, so the raw id is never stored."""
    digest = hmac.new(secret, f"{channel}:{user}".encode(), hashlib.sha256).hexdigest()
    return f"{channel[:2]}-{digest[:40]}"
