"""Which numbers a person sees (hotline/hotlines.py), as the rule table in the README says: by
where they are, their language, and what the numbers are for."""

from __future__ import annotations

import re

import pytest

from hotline.content import gateway_texts
from hotline.hotlines import emergency, lines_for, numbers, while_waiting

ALL_ROLES = ("emergency", "trafficking", "labour", "medical", "child", "abroad")
THAIS_ABROAD = "+66 99 130 1300"


def shown(text: str) -> list[str]:
    """The numbers in a message, in order."""
    return re.findall(r"☎ ([+\d][\d -]*\d)", text)


@pytest.mark.parametrize(
    ("country", "language", "roles", "under_18", "expected"),
    [
        # In one of the three countries: its lines for the roles, for the language.
        ("th", "th", ("emergency",), False, ["1300", "191", "1669"]),
        ("vn", "vi", ("emergency",), False, ["111", "113", "115", "112"]),
        ("kh", "km", ("emergency",), False, ["117"]),
        ("th", "km", ("trafficking",), False, ["1300", "1-800-010-181"]),
        # A Thai speaker outside Thailand also gets the line for Thais abroad.
        ("kh", "th", ("emergency",), False, ["117", THAIS_ABROAD]),
        ("vn", "th", ("trafficking",), False, ["111", THAIS_ABROAD]),
        # Nobody else does: it is for Thais.
        ("kh", "vi", ("emergency",), False, ["117"]),
        # Under 18: the child lines too.
        ("kh", "km", ("trafficking",), True, ["117", "1280"]),
        ("kh", "km", ("trafficking",), False, ["117"]),
    ],
)
def test_the_rule_table_in_the_three_countries(
    country: str, language: str, roles: tuple[str, ...], under_18: bool, expected: list[str]
) -> None:
    assert shown(numbers(country, language, roles, under_18)) == expected
    assert [line.number for line in lines_for(country, language, roles, under_18)] == expected


@pytest.mark.parametrize("country", ["other", None])
@pytest.mark.parametrize("language", ["th", "vi", "km"])
def test_elsewhere_every_country_is_named_and_its_short_numbers_said_to_work_only_there(
    country: str | None, language: str
) -> None:
    text = numbers(country, language, ALL_ROLES)
    only_there = gateway_texts()["from_that_country"][language]
    assert text.count(only_there) == 3, "one heading per country"
    for number in ("1300", "191", "111", "113", "117", "1280"):
        assert number in shown(text)
    if language == "th":
        assert shown(text)[0] == THAIS_ABROAD, "the line for Thais abroad comes first"
    else:
        assert THAIS_ABROAD not in shown(text)


@pytest.mark.parametrize("language", ["th", "vi", "km"])
def test_nobody_is_left_without_a_number(language: str) -> None:
    for country in ("th", "vn", "kh", "other", None):
        assert shown(emergency(country, language)), (country, language)
        assert shown(while_waiting(country, language)), (country, language)
        assert shown(numbers(country, language, ("trafficking", "abroad"))), (country, language)


@pytest.mark.parametrize(("language", "said"), [("vi", "tiếng Việt"), ("km", "ភាសាខ្មែរ")])
def test_1300_says_to_other_speakers_that_its_languages_are_not_confirmed(
    language: str, said: str
) -> None:
    [line] = [line for line in lines_for("th", language, ("emergency",)) if line.number == "1300"]
    assert said in line.name[language]
