"""The screening's risk rules, over the whole table of CONTRACT.md."""

from itertools import product

import pytest

from hotline.screening import (
    COERCION_SIGNS,
    EXPLOITATION_SIGNS,
    QUESTIONS,
    SIGNS,
    assess,
)

NONE = dict.fromkeys(QUESTIONS, "no") | {"q2_free_to_leave": "yes"}


def answers(**changes: str) -> dict[str, str | None]:
    return {**NONE, **changes}


def test_no_sign_is_low() -> None:
    result = assess(answers())
    assert (result.risk, result.signs) == ("low", ())


def test_in_danger_now_is_immediate() -> None:
    assert assess(answers(q1_danger="yes")).risk == "immediate"


def test_in_danger_message_is_immediate_whatever_the_answers() -> None:
    assert assess(answers(), in_danger_message=True).risk == "immediate"
    assert assess({}, in_danger_message=True).risk == "immediate"


def test_threats_with_no_freedom_to_leave_is_immediate() -> None:
    assert assess(answers(q7_threatened="yes", q2_free_to_leave="no")).risk == "immediate"


def test_threats_with_isolation_is_immediate() -> None:
    assert assess(answers(q7_threatened="yes", q8_isolated="yes")).risk == "immediate"


def test_threats_alone_is_not_immediate() -> None:
    assert assess(answers(q7_threatened="yes")).risk == "medium"


@pytest.mark.parametrize(
    ("coercion", "other"),
    [(c, o) for c in sorted(COERCION_SIGNS) for o in sorted(SIGNS) if c != o],
)
def test_one_coercion_sign_and_two_signs_is_high(coercion: str, other: str) -> None:
    given = answers(**{coercion: COERCION_SIGNS[coercion]})
    given[other] = SIGNS[other]
    trapped = given["q2_free_to_leave"] == "no" or given["q8_isolated"] == "yes"
    expected = "immediate" if given["q7_threatened"] == "yes" and trapped else "high"
    assert assess(given).risk == expected


def test_two_exploitation_signs_without_coercion_is_medium() -> None:
    result = assess(answers(q5_underpaid="yes", q6_deceived="yes"))
    assert (result.risk, result.signs) == ("medium", ("q5_underpaid", "q6_deceived"))


@pytest.mark.parametrize("sign", sorted(SIGNS))
def test_one_sign_is_medium_for_an_adult_and_high_for_a_child(sign: str) -> None:
    value = SIGNS[sign]
    assert assess(answers(**{sign: value})).risk == "medium"
    assert assess(answers(**{sign: value}, q9_under_18="yes")).risk == "high"


def test_a_child_with_no_sign_is_low() -> None:
    assert assess(answers(q9_under_18="yes")).risk == "low"


def test_unsure_is_not_a_sign_but_is_reported() -> None:
    result = assess(answers(q3_documents_kept="unsure", q4_debt="unsure"))
    assert result.risk == "low"
    assert result.unsure == ("q3_documents_kept", "q4_debt")


def test_skipped_and_missing_answers_are_not_signs() -> None:
    assert assess({"q1_danger": "skipped"}).risk == "low"
    assert assess({}).risk == "low"


def test_every_combination_follows_the_table() -> None:
    """All 2^9 yes/no combinations against the rules written out once more, plainly."""
    for values in product(("yes", "no"), repeat=len(QUESTIONS)):
        given = dict(zip(QUESTIONS, values, strict=True))
        coercion = sum(given[q] == v for q, v in COERCION_SIGNS.items())
        exploitation = sum(given[q] == v for q, v in EXPLOITATION_SIGNS.items())
        signs = coercion + exploitation
        if given["q1_danger"] == "yes" or (
            given["q7_threatened"] == "yes"
            and (given["q2_free_to_leave"] == "no" or given["q8_isolated"] == "yes")
        ):
            expected = "immediate"
        elif (coercion >= 1 and signs >= 2) or (given["q9_under_18"] == "yes" and signs >= 1):
            expected = "high"
        elif signs >= 1:
            expected = "medium"
        else:
            expected = "low"
        assert assess(given).risk == expected, given
