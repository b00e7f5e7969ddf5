"""Who answers a conversation, and the one table of how that may change.

States: bot (the assistant answers) -> waiting (a hand-off is queued; the bot is silent)
-> operator (a person answers) -> closed (the assistant answers again). Each change is checked
against TRANSITIONS in the same atomic step that makes it: in Lua (`starts_of` passes the allowed
states to the script) or in a WATCHed transaction.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Who answers the conversation now."""

    BOT = "bot"
    WAITING = "waiting"
    OPERATOR = "operator"
    CLOSED = "closed"


# (state, event) -> next state.
TRANSITIONS: dict[tuple[State, str], State] = {
    (State.BOT, "handoff"): State.WAITING,
    (State.CLOSED, "handoff"): State.WAITING,
    (State.WAITING, "claim"): State.OPERATOR,
    # An operator may also take a conversation from the list of recent ones (CONTRACT.md).
    (State.BOT, "claim"): State.OPERATOR,
    (State.CLOSED, "claim"): State.OPERATOR,
    (State.OPERATOR, "transfer"): State.OPERATOR,
    (State.OPERATOR, "reply"): State.OPERATOR,
    (State.WAITING, "close"): State.CLOSED,
    (State.OPERATOR, "close"): State.CLOSED,
    # A person still waiting goes back to the assistant; with an operator, only they close.
    (State.WAITING, "withdraw"): State.BOT,
    # Only an operator lowers (or sets) the risk of a hand-off; danger never lowers it by itself.
    (State.WAITING, "risk"): State.WAITING,
    (State.OPERATOR, "risk"): State.OPERATOR,
    # Danger said during a hand-off makes it immediate, in whichever hands it is.
    (State.WAITING, "danger"): State.WAITING,
    (State.OPERATOR, "danger"): State.OPERATOR,
}
# Events only the operator who holds the conversation may cause (or a supervisor).
HOLDER_ONLY = {"transfer", "reply", "close", "risk"}
# Who ends a hand-off when the person leaves quickly or goes back to the assistant.
PERSON = "person"
# Hand-off queue order: the most urgent first, then the longest waiting.
PRIORITY = {"immediate": 0, "high": 1, "medium": 2, "low": 3}


class NotAllowed(ValueError):
    """The hand-off event is not possible now; the message says why, for the operator."""


def transition(state: State, event: str) -> State:
    """The state after an event; NotAllowed when the event is not allowed in that state."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise NotAllowed(f"'{event}' is not possible while the conversation is {state}") from None


def starts_of(event: str) -> list[str]:
    """The states an event may happen in (for the Lua scripts, which check them in Redis)."""
    return [state.value for state, happens in TRANSITIONS if happens == event]


def queue_score(risk: str, since: float) -> int:
    """A hand-off's place in the queue: the most urgent first, then the longest waiting."""
    return PRIORITY.get(risk, len(PRIORITY)) * 10**10 + int(since)
