"""Referrals between two hotlines running this project travel as envelopes: the referral sealed
to the partner (a libsodium sealed box to its Ed25519 key, turned into Curve25519), then signed
with this hotline's Ed25519 key over everything the partner reads: who sends, to whom, when, the
envelope's id and the box. Each hotline has one key (REFERRAL_KEY, made by `python -m
handoff.admin referral-key`); partners exchange the public halves out of band and pin them on
each other's record (bot/partners.py). An envelope from a key nobody pinned, with a signature
that does not hold, meant for another hotline, or older than AGE_SECONDS is refused."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import SealedBox
from nacl.signing import SigningKey, VerifyKey

# How long an envelope may travel (the clocks of two servers differ by seconds, not minutes).
AGE_SECONDS = 600
VERSION = 1


class Refused(ValueError):
    """An envelope that is not opened: `reason` is unknown_key, signature, not_for_us, stale or
    malformed."""

    def __init__(self, reason: str) -> None:
        """Says why."""
        super().__init__(f"envelope refused: {reason}")
        self.reason = reason


def make_key() -> str:
    """A new private key (its 32-byte seed, base64)."""
    return _b64(bytes(SigningKey.generate()))


def public_key(private: str) -> str:
    """The public half of a private key, as partners pin it (base64)."""
    return _b64(bytes(_signing(private).verify_key))


def valid_public_key(text: str) -> bool:
    """Whether a pasted public key is one (32 bytes of base64 that make an Ed25519 point)."""
    try:
        VerifyKey(_unb64(text.strip()))
    except (ValueError, TypeError, CryptoError):
        return False
    return True


def seal(payload: dict[str, Any], private: str, to: str, envelope_id: str = "") -> dict[str, Any]:
    """An envelope for the partner whose public key is `to`; `envelope_id` the same for each
    sending of the same thing (the partner stores it once)."""
    signing = _signing(private)
    partner = VerifyKey(_unb64(to)).to_curve25519_public_key()
    box = SealedBox(partner).encrypt(json.dumps(payload, ensure_ascii=False).encode())
    body = {
        "v": VERSION,
        "id": envelope_id or str(uuid.uuid4()),
        "from": _b64(bytes(signing.verify_key)),
        "to": to,
        "at": int(time.time()),
        "box": _b64(box),
    }
    return {**body, "signature": _b64(signing.sign(_signed(body)).signature)}


def open_envelope(
    envelope: dict[str, Any], private: str, pinned: set[str], now: float | None = None
) -> dict[str, Any]:
    """What the envelope carries, when its key is one of `pinned`, its signature holds, it is
    meant for this hotline and fresh; Refused otherwise."""
    try:
        body = {key: envelope[key] for key in ("v", "id", "from", "to", "at", "box")}
        signature = _unb64(str(envelope["signature"]))
        sender = str(body["from"])
    except (KeyError, TypeError, ValueError):
        raise Refused("malformed") from None
    if sender not in pinned:
        raise Refused("unknown_key")
    try:
        VerifyKey(_unb64(sender)).verify(_signed(body), signature)
    except (BadSignatureError, ValueError, TypeError):
        raise Refused("signature") from None
    signing = _signing(private)
    if body["to"] != _b64(bytes(signing.verify_key)):
        raise Refused("not_for_us")
    if abs((now or time.time()) - float(body["at"])) > AGE_SECONDS:
        raise Refused("stale")
    try:
        opened = SealedBox(signing.to_curve25519_private_key()).decrypt(_unb64(str(body["box"])))
        payload: dict[str, Any] = json.loads(opened)
    except (CryptoError, ValueError):
        raise Refused("malformed") from None
    return payload


def signed_document(document: dict[str, Any], private: str) -> dict[str, Any]:
    """A document anyone can check but nobody can alter unseen: it, who signed it (the public
    key) and the signature over both (for a partner without this system: the referral as a
    file)."""
    body = {"document": document, "signed_by": public_key(private)}
    return {**body, "signature": _b64(_signing(private).sign(_signed(body)).signature)}


def check_document(signed: dict[str, Any], pinned: str) -> dict[str, Any]:
    """The document of a signed file, when `pinned` signed it; Refused otherwise."""
    body = {"document": signed.get("document"), "signed_by": signed.get("signed_by")}
    if body["signed_by"] != pinned:
        raise Refused("unknown_key")
    try:
        VerifyKey(_unb64(pinned)).verify(_signed(body), _unb64(str(signed.get("signature"))))
    except (BadSignatureError, ValueError, TypeError):
        raise Refused("signature") from None
    document: dict[str, Any] = signed["document"]
    return document


def _signed(body: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the body as canonical JSON."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _signing(private: str) -> SigningKey:
    return SigningKey(_unb64(private))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
