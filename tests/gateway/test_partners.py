"""The partner registry (issue 20): supervisors keep it in the console; a partner hotline's key is
checked when pasted, this hotline's own public key is shown to give to partners, and operators
cannot reach the page."""

from __future__ import annotations

import httpx
import pytest

from bot import envelopes
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user

pytestmark = pytest.mark.servers

PARTNER_KEY = envelopes.public_key(envelopes.make_key())


def add_partner(client: httpx.Client, **fields: object) -> httpx.Response:
    """Posts the partner form (a Cambodian hotline unless the fields say otherwise)."""
    form: dict[str, object] = {
        "csrf": _csrf(client.get("/console/partners").text),
        "id": "kh-hotline",
        "name": "Cambodian partner hotline",
        "country": "kh",
        "languages": ["km", "en"],
        "offers": ["return", "family_tracing"],
        "contact": "",
        "url": "http://127.0.0.1:9",
        "public_key": PARTNER_KEY,
    }
    return client.post("/console/partners", data={**form, **fields})


def test_a_supervisor_registers_partners_and_sees_this_hotlines_key(stack: Stack) -> None:
    operator = login(stack, make_user(stack))
    assert operator.get("/console/partners").status_code in (303, 403)
    supervisor = login(stack, make_user(stack, "supervisor"))
    page = supervisor.get("/console/partners").text
    ours = envelopes.public_key(stack.env["REFERRAL_KEY"])
    assert f'<code id="our-key">{ours}</code>' in page

    assert add_partner(supervisor).status_code == 303
    manual = {"id": "kh-shelter", "name": "A shelter", "url": "", "public_key": ""}
    refused = add_partner(supervisor, **manual)
    assert refused.status_code == 400 and "contact: how to send it a referral" in refused.text
    assert add_partner(supervisor, **manual, contact="shelter@example.org").status_code == 303
    wrong = add_partner(supervisor, id="bad-key", public_key="not a key")
    assert wrong.status_code == 400 and "public key" in wrong.text
    assert add_partner(supervisor, id="no-offer", offers=[]).status_code == 400

    listed = supervisor.get("/console/partners").text
    assert "Cambodian partner hotline" in listed and "Return home" in listed
    assert "Printed or e-mailed referral" in listed and "shelter@example.org" in listed
    assert "bad-key" not in listed and "no-offer" not in listed
    assert "partner_saved" in str(stack.redis.xrange("hl:audit"))
