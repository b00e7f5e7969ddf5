"""A referral for a partner without this system (issue 20): what one printed page shows, in
English and in the partner's language, and the same referral as a signed file. Made only for a
referral the person agreed to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot import envelopes
from bot.partners import Partner
from bot.referral_words import LANGUAGE_NAMES, OFFERS, RISKS
from bot.store.referrals import Referral
from hotline.content import country_names, gateway_texts, referral_print_texts, screening
from hotline.language import LANGUAGES


@dataclass(frozen=True)
class Side:
    """The page in one language: its field names and the referral's values."""

    language: str
    title: str
    rows: tuple[tuple[str, str], ...]
    agreed: str
    signed: str


def side(payload: dict[str, Any], partner: Partner, public_key: str, language: str) -> Side:
    """The referral's fields in one language (en, th, vi or km)."""
    words = {key: texts[language] for key, texts in referral_print_texts().items()}
    countries = country_names()
    risk_names = gateway_texts()["referral_risks"][language].split("|")
    risk = str(payload.get("risk", ""))
    offers = dict(zip(OFFERS, gateway_texts()["referral_offers"][language].split("|"), strict=True))
    signs = [screening().signs[slot][language] for slot in payload.get("signs", [])]
    none = gateway_texts()["referral_none"][language]
    rows = (
        (words["to"], partner.name),
        (words["origin"], countries.get(payload.get("origin", ""), {}).get(language, "—")),
        (words["now"], countries.get(payload.get("now", ""), {}).get(language, "—")),
        (words["language"], LANGUAGE_NAMES.get(payload.get("language", ""), {}).get(language, "—")),
        (words["risk"], risk_names[RISKS.index(risk)] if risk in RISKS else risk_names[-1]),
        (words["signs"], "; ".join(signs) or none),
        (words["needs"], ", ".join(offers[n] for n in payload.get("needs", [])) or none),
        (words["contact"], _contact(words["contact_value"], str(payload.get("phone") or ""))),
        (words["note"], payload.get("note") or "—"),
    )
    when = dt.datetime.fromtimestamp(float(payload.get("agreed_at") or 0), dt.UTC)
    agreed = words["agreed"].format(date=when.strftime("%Y-%m-%d"))
    return Side(language, words["title"], rows, agreed, words["signed"].format(key=public_key))


def sides(payload: dict[str, Any], partner: Partner, public_key: str) -> tuple[Side, ...]:
    """English, then the partner's first language of the three (if it reads one)."""
    theirs = next((lang for lang in partner.languages if lang in LANGUAGES), None)
    chosen = ("en", theirs) if theirs else ("en",)
    return tuple(side(payload, partner, public_key, lang) for lang in chosen)


def signed_file(referral: Referral, payload: dict[str, Any], private_key: str) -> dict[str, Any]:
    """The referral as a signed file: the same fields, its reference, signed by this hotline."""
    document = {**payload, "reference": referral.id, "partner": referral.partner}
    document.pop("back", None)
    return envelopes.signed_document(document, private_key)


def _contact(through_hotline: str, phone: str) -> str:
    """How to reach the person: through the referring hotline, and the number they typed in."""
    return f"{through_hotline} ☎ {phone}" if phone else through_hotline
