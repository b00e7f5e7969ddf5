"""The compiled validator of action-server replies accepts what Rasa's does and refuses the rest."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import rasa_plugins  # noqa: F401  (installs the validator, as Rasa's import of it does)
from rasa_plugins.action_results import validate_action_result

GOOD = {
    "events": [{"event": "slot", "timestamp": None, "name": "language", "value": "th"}],
    "responses": [{"text": "สวัสดี", "buttons": [], "response": "utter_greet"}],
}


def test_rasa_uses_the_compiled_validator() -> None:
    assert RemoteAction._validate_action_result is validate_action_result


def test_a_good_reply_passes() -> None:
    assert RemoteAction("action_x", None)._validate_action_result(GOOD)


@pytest.mark.parametrize(
    "bad",
    [{"events": "not a list"}, {"events": [{"event": "slot", "name": 3}]}, {"responses": ["text"]}],
)
def test_a_malformed_reply_is_refused_with_rasas_hint(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_x", None)._validate_action_result(bad)
