"""The NGO registry's routing rule: an NGO's conversations go first to its team while one of its
operators is online, else to the general queue."""

from __future__ import annotations

import pytest

from bot.ngos import InvalidNGO, parse, route

WAITING = [
    ("c1", {"referral": "mekong"}),
    ("c2", {"referral": ""}),
    ("c3", {"referral": "mekong"}),
    ("c4", {"referral": "unknown-code"}),
]
TEAMS: dict[str, tuple[str, ...]] = {"mekong": ("anna", "bao")}


def convs(found: list[tuple[str, dict[str, str]]]) -> list[str]:
    return [conv for conv, _ in found]


def test_the_team_gets_its_ngos_conversations_first_while_one_of_it_is_online() -> None:
    online = {"bao", "chan"}
    assert convs(route(WAITING, "anna", False, TEAMS, online)) == ["c1", "c3", "c2", "c4"]
    assert convs(route(WAITING, "chan", False, TEAMS, online)) == ["c2", "c4"]
    assert convs(route(WAITING, "sup", True, TEAMS, online)) == ["c1", "c2", "c3", "c4"]


def test_with_nobody_of_the_team_online_everything_is_in_the_general_queue() -> None:
    for user in ("anna", "chan"):
        assert convs(route(WAITING, user, False, TEAMS, {"chan"})) == ["c1", "c2", "c3", "c4"]


def test_danger_said_while_waiting_is_for_everyone_even_through_an_ngo() -> None:
    waiting = [("c1", {"referral": "mekong", "danger_open": "1"}), *WAITING[1:]]
    online = {"bao", "chan"}
    assert convs(route(waiting, "chan", False, TEAMS, online)) == ["c1", "c2", "c4"]
    assert convs(route(waiting, "anna", False, TEAMS, online))[0] == "c3", "the team's own first"
    assert "c1" in convs(route(waiting, "anna", False, TEAMS, online))


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"code": "a b"}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"name": "  "}, "name"),
        ({"languages": ["en"]}, "languages"),
        ({"contact": "x" * 201}, "contact"),
    ],
)
def test_a_wrong_field_is_named(fields: dict[str, object], wrong: str) -> None:
    given: dict[str, object] = {
        "code": "mekong",
        "name": "Mekong Aid",
        "languages": ["th"],
        "contact": "",
        "team": "",
    }
    with pytest.raises(InvalidNGO, match=f"^{wrong}:"):
        parse(**{**given, **fields})  # type: ignore[arg-type]


def test_a_team_is_a_set_of_names() -> None:
    ngo = parse("mekong", " Mekong   Aid ", ["km", "th"], "", "bao, anna anna")
    assert (ngo.name, ngo.languages, ngo.team) == ("Mekong Aid", ("th", "km"), ("anna", "bao"))
