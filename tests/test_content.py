"""Content files: every text in th, vi and km; every number shown is a checked hotline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline import content, rights
from hotline.content import COUNTRIES, ContentError, hotlines
from hotline.content_lint import NUMBER, is_year_or_law, known_numbers, numbers_in
from hotline.hotlines import emergency, format_lines, select
from hotline.language import LANGUAGES, detect, find_listed
from tests.contract import RIGHTS_TOPICS

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_TOPICS = set(RIGHTS_TOPICS)
ROLES = ("emergency", "trafficking", "labour", "medical", "child", "abroad", "police")


def every_rendered_text() -> list[tuple[str, str]]:
    """Every text the actions can build from content, with where it came from."""
    texts = []
    for topic in rights.topics():
        for country in COUNTRIES:
            for language in LANGUAGES:
                where = f"rights {topic} {country} {language}"
                texts.append((where, rights.answer(topic, country, language)))
    maybe_countries: list[str | None] = [*COUNTRIES, None]
    maybe_languages: list[str | None] = [*LANGUAGES, None]
    for maybe_country in maybe_countries:
        for maybe_language in maybe_languages:
            where = f"{maybe_country} {maybe_language}"
            texts.append((f"emergency {where}", emergency(maybe_country, maybe_language)))
            if maybe_country:
                lines = select(maybe_country, maybe_language, ROLES)
                texts.append((f"lines {where}", format_lines(lines, maybe_language)))
    screening = content.screening()
    for language in LANGUAGES:
        texts.append(("consent", screening.consent[language]))
        texts += [(f"question {q.slot}", q.text[language]) for q in screening.questions]
        texts += [(f"result {k}", v[language]) for k, v in screening.results.items()]
    return texts


def domain_responses() -> dict[str, list[dict[str, object]]]:
    merged: dict[str, list[dict[str, object]]] = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        merged.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses", {}))
    return merged


def test_every_content_file_loads() -> None:
    assert hotlines()
    assert content.screening().questions
    assert set(content.country_names()) == set(COUNTRIES)


def test_every_rights_topic_of_the_contract_is_answered_for_every_country() -> None:
    assert set(rights.topics()) == CONTRACT_TOPICS
    for topic in CONTRACT_TOPICS:
        for country in COUNTRIES:
            for language in LANGUAGES:
                assert rights.answer(topic, country, language).strip()


def test_every_hotline_has_a_source_a_checked_date_and_a_name_in_each_language() -> None:
    for line in hotlines().values():
        assert line.source and line.checked and line.confidence in {"H", "M"}, line.id
        assert all(line.name[lang] for lang in LANGUAGES), line.id


def test_the_old_vietnamese_number_and_unverified_numbers_are_absent() -> None:
    known = known_numbers()
    assert "18001567" not in known  # replaced by 111 in 2017
    assert "1288" not in known  # unverified


def test_every_number_shown_is_a_hotline_with_a_source() -> None:
    known = known_numbers()
    for where, text in every_rendered_text():
        for number in numbers_in(text):
            assert number in known or is_year_or_law(number), f"{where}: {number} in {text!r}"


def test_domain_responses_state_no_phone_numbers() -> None:
    for name, variations in domain_responses().items():
        for variation in variations:
            text = str(variation.get("text", ""))
            assert not {n for n in numbers_in(text) if not is_year_or_law(n)}, name


def test_every_response_exists_in_thai_vietnamese_and_khmer() -> None:
    for name, variations in domain_responses().items():
        if name == "utter_ask_language":
            continue  # one trilingual prompt, the same whatever the language
        languages = set()
        for variation in variations:
            for condition in variation.get("condition", []) or []:  # type: ignore[attr-defined]
                if condition["name"] == "language":
                    languages.add(condition["value"])
        assert languages == set(LANGUAGES), f"{name} has {sorted(languages)}"
        defaults = [v for v in variations if not v.get("condition")]
        assert len(defaults) == 1, f"{name}: needs one default (the language prompt)"


def test_variations_in_one_language_are_written_in_it() -> None:
    from hotline.language import detect

    for name, variations in domain_responses().items():
        for variation in variations:
            for condition in variation.get("condition", []) or []:  # type: ignore[attr-defined]
                text = str(variation["text"])
                assert detect(text) == condition["value"], f"{name} {condition['value']}: {text}"


def test_rights_texts_are_written_in_their_language() -> None:
    from hotline.language import detect

    for topic, entries in content.rights().items():
        for entry in entries:
            for language in LANGUAGES:
                assert detect(entry.text[language]) == language, (topic, language)


def test_a_text_missing_a_language_is_refused_with_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = (
        "x_line:\n  country: th\n  number: '191'\n  roles: [police]\n  confidence: H\n"
        "  name: {en: Police, th: ตำรวจ, vi: Cảnh sát}\n  source: s\n  checked: 2026-11-22\n"
    )
    message = "hotlines.yaml: x_line: name: no text in km"
    refused(tmp_path, monkeypatch, "hotlines.yaml", written, content.hotlines, message)


def test_a_fact_without_source_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = (
        "x_line:\n  country: th\n  number: '191'\n  name: {en: a, th: b, vi: c, km: d}\n"
        "  checked: 2026-11-22\n"
    )
    refused(tmp_path, monkeypatch, "hotlines.yaml", written, content.hotlines, "x_line: no source")


def test_every_response_is_used_by_a_rule_or_an_action() -> None:
    used = "".join(
        path.read_text(encoding="utf-8")
        for pattern in ("dialogue/**/*.yml", "actions/*.py")
        for path in ROOT.glob(pattern)
    )
    unused = [
        name for name in domain_responses() if f"{name}\n" not in used and f'"{name}"' not in used
    ]
    assert not unused


def test_gateway_texts_exist_in_every_language_and_name_no_number() -> None:
    for key, texts in content.gateway_texts().items():
        for language in LANGUAGES:
            assert detect(texts[language]) == language, (key, language)
            # "48 hours" is a duration; no phone number is stated here (hotlines.yaml has them).
            assert not numbers_in(texts[language]), (key, language)


def test_the_word_the_gateway_suggests_in_danger_is_a_danger_word() -> None:
    """The non-text reply says what to type when in danger: typing it must reach in_danger."""
    texts = content.gateway_texts()["non_text"]
    for language in LANGUAGES:  # not "en": the English is a gloss for reviewers, never sent
        suggested = re.findall(r'"([^"]+)"', texts[language])
        assert suggested, language
        assert all(find_listed(word, "danger_words") for word in suggested), language


def test_canned_replies_exist_in_every_language_and_name_no_number() -> None:
    replies = content.canned_replies()
    assert len(replies) >= 25, "the phrasebook an operator needs with someone in danger"
    assert {reply.group for reply in replies} == set(content.PHRASE_GROUPS)
    for reply in replies:
        assert reply.title["en"] and detect(reply.title["th"]) == "th", reply.id
        for language in LANGUAGES:
            assert detect(reply.text[language]) == language, (reply.id, language)
            assert not NUMBER.search(reply.text[language]), (reply.id, language)


def test_the_console_speaks_english_and_thai() -> None:
    for section, entries in content.console_texts().items():
        for key, texts in entries.items():
            assert texts["en"] and texts["th"], (section, key)
    labels = content.console_texts()
    assert set(labels["risks"]) >= {"immediate", "high", "medium", "low"}
    assert set(labels["answers"]) == {"yes", "no", "unsure", "skipped"}


def test_the_leaflet_is_in_every_language_and_names_no_number() -> None:
    """Its numbers come from hotlines.yaml when it is rendered; its own words state none."""
    texts = content.leaflet_texts()
    assert {"title", "leave_quickly", "forget", "emergency", "shared_by"} <= set(texts)
    for key, text in texts.items():
        for language in LANGUAGES:
            shown = text[language].format(word="", country="", name="")
            assert detect(shown) == language, (key, language)
            assert not NUMBER.search(shown), (key, language)
    assert all("{word}" in texts["leave_quickly"][lang] for lang in LANGUAGES)
    assert all("/forget" in texts["forget"][lang] for lang in LANGUAGES)


def test_a_phrase_that_states_a_fact_says_where_it_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = (
        "fact:\n  group: safety\n  source: FACTS.md\n"
        "  title: {en: a, th: ก}\n  text: {th: ก, vi: a, km: ក}\n"
    )
    message = "canned.yaml: fact: `checked` must be a date"
    refused(tmp_path, monkeypatch, "canned.yaml", written, content.canned_replies, message)


def refused(
    folder: Path, monkeypatch: pytest.MonkeyPatch, name: str, written: str, load: Any, message: str
) -> None:
    """A content file written so, the loader refuses it with this message (file and key named;
    its cache cleared around it)."""
    (folder / name).write_text(written, encoding="utf-8")
    monkeypatch.setattr(content, "CONTENT_DIR", folder)
    load.cache_clear()
    try:
        with pytest.raises(ContentError, match=message):
            load()
    finally:
        load.cache_clear()


def test_the_console_can_say_what_every_intent_and_topic_means() -> None:
    """Each intent of the domain and each rights topic has its gloss for operators."""
    domain = yaml.safe_load((content.CONTENT_DIR.parent / "domain" / "core.yml").read_text())
    glosses = content.console_texts()
    assert set(domain["intents"]) <= set(glosses["understood"])
    assert set(RIGHTS_TOPICS) == set(glosses["topics"])


def test_legal_references_are_in_the_readers_language() -> None:
    """An English "s.41" or "Art. 37" means nothing to the reader: มาตรา, Điều, មាត្រា."""
    english = re.compile(r"\b(s\.\s?\d|Art\.\s?\d|[Ss]ection \d|Article \d)")
    found = [where for where, text in every_rendered_text() if english.search(text)]
    for key, variations in domain_responses().items():
        found += [key for variation in variations if english.search(str(variation.get("text")))]
    assert not found


def test_no_rights_answer_promises_more_than_the_law() -> None:
    """Issue 16: non-punishment only once identified; debt bondage "can be"; the 45 days hedged."""
    for language, said in {"th": "คัดแยก", "vi": "chính thức xác định", "km": "ផ្លូវការ"}.items():
        assert said in rights.answer("rights/non_punishment", "th", language)
    assert "can be debt bondage" in rights.find("rights/debt_bondage", "th").text["en"]
    assert "ask a person" in rights.find("rights/stay_and_work", "th").text["en"]
    assert "held back" in rights.find("rights/unpaid_wages", "th").text["en"]
    assert " here" not in rights.find("rights/unpaid_wages", "th").text["en"]
