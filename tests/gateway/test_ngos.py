"""The NGO registry's routing rule: an NGO's conversations go first to its team while one of its
operators is online, else to the general queue. And what a supervisor may type for an NGO."""

from __future__ import annotations

import pytest

from bot.ngos import MAX_SITES, InvalidNGO, origin, parse, route

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
        ({"sites": "http://mekong.example"}, "sites"),
        ({"sites": "mekong.example"}, "sites"),
        ({"sites": "https://mekong.example/chat"}, "sites"),
        ({"sites": "https://mekong.example?x=1"}, "sites"),
        ({"sites": "https://user@mekong.example"}, "sites"),
        ({"sites": "https://mekong.example\\@evil.example"}, "sites"),
        ({"sites": " ".join(f"https://s{n}.example" for n in range(MAX_SITES + 1))}, "sites"),
    ],
)
def test_a_wrong_field_is_named(fields: dict[str, object], wrong: str) -> None:
    given: dict[str, object] = {
        "code": "mekong",
        "name": "Mekong Aid",
        "languages": ["th"],
        "contact": "",
        "team": "",
        "sites": "",
    }
    with pytest.raises(InvalidNGO, match=f"^{wrong}:"):
        parse(**{**given, **fields})  # type: ignore[arg-type]


def test_a_team_is_a_set_of_names() -> None:
    ngo = parse("mekong", " Mekong   Aid ", ["km", "th"], "", "bao, anna anna", "")
    assert (ngo.name, ngo.languages, ngo.team) == ("Mekong Aid", ("th", "km"), ("anna", "bao"))


def test_sites_are_https_origins_each_once() -> None:
    typed = "https://Mekong.example/, https://mekong.example:443\nhttps://mekong.example:8443"
    ngo = parse("mekong", "Mekong Aid", ["th"], "", "", typed)
    assert ngo.sites == ("https://mekong.example", "https://mekong.example:8443")


def test_a_path_or_http_is_named_in_the_error() -> None:
    with pytest.raises(InvalidNGO, match="without a path"):
        parse("mekong", "Mekong Aid", ["th"], "", "", "https://mekong.example/chat")
    with pytest.raises(InvalidNGO, match="not an https address"):
        parse("mekong", "Mekong Aid", ["th"], "", "", "http://mekong.example")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mekong.example/news?a=1#top", "https://mekong.example"),
        ("https://MEKONG.example:443", "https://mekong.example"),
        ("https://mekong.example:8443/", "https://mekong.example:8443"),
        ("http://mekong.example/", ""),
        ("//mekong.example/", ""),
        ("javascript:alert(1)", ""),
        # A browser reads the host of these as evil.example: no host at all for Python's origin.
        ("https://evil.example\\@mekong.example/", ""),
        ("https://evil.example\\.mekong.example/", ""),
        ("https://mekong.example@evil.example/", ""),
        ("https://mekong.example /", ""),
        ("https://mekong.example\t/", ""),
    ],
)
def test_the_origin_of_an_address_is_read_as_a_browser_would_or_not_at_all(
    url: str, expected: str
) -> None:
    assert origin(url) == expected
