"""Envelopes between hotlines (issue 20): what the partner opens is what was sealed to it, and a
forged, foreign, misdirected, stale or altered envelope is refused."""

from __future__ import annotations

import base64
import time

import pytest

from bot import envelopes
from bot.envelopes import Refused, open_envelope, public_key, seal

THAI, CAMBODIAN, STRANGER = (envelopes.make_key() for _ in range(3))
REFERRAL = {"language": "km", "risk": "high", "note": "ចង់ត្រឡប់ទៅផ្ទះ wants to go home"}


def test_the_partner_opens_what_was_sealed_to_it() -> None:
    envelope = seal(REFERRAL, THAI, public_key(CAMBODIAN))
    assert "ត្រឡប់" not in str(envelope) and "home" not in str(envelope), "sealed"
    opened = open_envelope(envelope, CAMBODIAN, {public_key(THAI)})
    assert opened == REFERRAL
    assert envelope["from"] == public_key(THAI)


def test_a_forged_signature_is_refused() -> None:
    envelope = seal(REFERRAL, STRANGER, public_key(CAMBODIAN))
    forged = {**envelope, "from": public_key(THAI)}  # claims to be the Thai hotline
    with pytest.raises(Refused) as refused:
        open_envelope(forged, CAMBODIAN, {public_key(THAI)})
    assert refused.value.reason == "signature"


def test_a_key_nobody_pinned_is_refused() -> None:
    envelope = seal(REFERRAL, STRANGER, public_key(CAMBODIAN))
    with pytest.raises(Refused) as refused:
        open_envelope(envelope, CAMBODIAN, {public_key(THAI)})
    assert refused.value.reason == "unknown_key"


def test_an_envelope_for_another_hotline_is_refused() -> None:
    envelope = seal(REFERRAL, THAI, public_key(STRANGER))
    with pytest.raises(Refused) as refused:
        open_envelope(envelope, CAMBODIAN, {public_key(THAI)})
    assert refused.value.reason == "not_for_us"


def test_an_old_envelope_is_refused() -> None:
    envelope = seal(REFERRAL, THAI, public_key(CAMBODIAN))
    later = time.time() + envelopes.AGE_SECONDS + 5
    with pytest.raises(Refused) as refused:
        open_envelope(envelope, CAMBODIAN, {public_key(THAI)}, now=later)
    assert refused.value.reason == "stale"


def test_a_changed_box_or_id_breaks_the_signature() -> None:
    envelope = seal(REFERRAL, THAI, public_key(CAMBODIAN))
    box = bytearray(base64.b64decode(envelope["box"]))
    box[-1] ^= 1
    for changed in (
        {**envelope, "box": base64.b64encode(bytes(box)).decode()},
        {**envelope, "id": "x"},
    ):
        with pytest.raises(Refused) as refused:
            open_envelope(changed, CAMBODIAN, {public_key(THAI)})
        assert refused.value.reason == "signature"
    with pytest.raises(Refused) as refused:
        open_envelope({"id": "x"}, CAMBODIAN, {public_key(THAI)})
    assert refused.value.reason == "malformed"


def test_public_keys_are_checked_when_pasted() -> None:
    assert envelopes.valid_public_key(public_key(THAI))
    assert not envelopes.valid_public_key("not a key")
    assert not envelopes.valid_public_key(base64.b64encode(b"short").decode())
