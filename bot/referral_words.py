"""What a person reads about a referral to a partner (issue 20), in their language: the consent
question with its buttons, what would be sent, and the answer to their choice. Words from
content/gateway.yaml; nothing here is sent without the person's "agree" (bot/store/referrals.py)."""

from __future__ import annotations

from typing import Any

from bot.store.referrals import Referral, payload
from hotline.content import country_names, gateway_texts, screening
from hotline.screening import SIGNS

OFFERS = ("return", "shelter", "legal_aid", "medical", "family_tracing")
RISKS = ("immediate", "high", "medium", "low")
LANGUAGE_NAMES = {
    "th": {"th": "ไทย", "vi": "tiếng Thái", "km": "ថៃ", "en": "Thai"},
    "vi": {"th": "เวียดนาม", "vi": "tiếng Việt", "km": "វៀតណាម", "en": "Vietnamese"},
    "km": {"th": "เขมร", "vi": "tiếng Khmer", "km": "ខ្មែរ", "en": "Khmer"},
}


def _say(key: str, language: str) -> str:
    return gateway_texts()[key][language]


def offers(chosen: tuple[str, ...], language: str) -> str:
    """What a partner offers (or a person needs), in the language."""
    names = dict(zip(OFFERS, _say("referral_offers", language).split("|"), strict=True))
    return ", ".join(names[o] for o in chosen if o in names) or _say("referral_none", language)


def ask(name: str, country: str, partner_offers: tuple[str, ...], language: str) -> str:
    """The consent question: who (the partner's name), where (its country's code), what they do,
    what would be sent."""
    where = country_names()[country][language]
    return _say("referral_ask", language).format(
        partner=name, country=where, offers=offers(partner_offers, language)
    )


def buttons(referral_id: str, language: str) -> list[dict[str, str]]:
    """Agree / not now / what will you send?"""
    return [
        {"title": _say("referral_agree", language), "payload": payload(referral_id, "agree")},
        {"title": _say("referral_later", language), "payload": payload(referral_id, "later")},
        {"title": _say("referral_what_button", language), "payload": payload(referral_id, "what")},
    ]


def what(
    referral: Referral, conversation: dict[str, str], handoff: dict[str, Any], language: str
) -> str:
    """The referral as it would be sent, line by line, in the language."""
    countries = country_names()
    now = conversation.get("country") or ""
    risk = conversation.get("risk") or ""
    risks = _say("referral_risks", language).split("|")
    answers = handoff.get("answers") or {}
    signs = [
        screening().signs[slot][language]
        for slot, sign in SIGNS.items()
        if answers.get(slot) == sign and slot in screening().signs
    ]
    details = _say("referral_fields", language).format(
        origin=countries[referral.origin][language] if referral.origin in countries else "—",
        now=countries[now][language] if now in countries else "—",
        language=LANGUAGE_NAMES.get(conversation.get("language", ""), {}).get(language, "—"),
        risk=risks[RISKS.index(risk)] if risk in RISKS else risks[-1],
        signs=", ".join(signs) or _say("referral_none", language),
        needs=offers(referral.needs, language),
    )
    return _say("referral_what", language).format(details=details)


def answered(referral: Referral, answer: str, language: str) -> str:
    """The reply to "agree" or "not now"."""
    key = "referral_agreed" if answer == "agree" else "referral_not_now"
    return _say(key, language).format(partner=referral.partner_name)


def ask_phone(referral: Referral, language: str) -> str:
    """After "agree": a phone number, if the person wants the partner to call them."""
    return _say("referral_phone", language).format(partner=referral.partner_name)


def phone_kept(referral: Referral, phone: str, language: str) -> str:
    """The number the person typed, given to the partner."""
    return _say("referral_phone_kept", language).format(partner=referral.partner_name, phone=phone)
