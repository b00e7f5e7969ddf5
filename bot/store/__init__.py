"""The conversation store: every Redis key, stream and state of the gateway, and the changes
between them, each part in its own module:

- keys.py: where everything lives, and for how long;
- states.py: who answers a conversation, and the one table of how that may change;
- messages.py: the inbox and the outbox, in order, each entry handled once;
- handoffs.py: the queue of people waiting for an operator, claims, transfers, closing;
- dead_letters.py: entries that keep failing, for supervisors to send again;
- backlog.py: how much waits in the shared streams and queues, for the metrics;
- erasure.py: "forget me", and the sweep of what expired;
- console_log.py: the audit log and who is online;
- statistics.py: the reports' anonymous counts;
- scripts/: the Lua that changes several keys at once (scripts.py runs it).

`Store` is all of them over one Redis client; callers import what they need from here.
"""

from bot.store.backlog import Backlog, Backlogs
from bot.store.console_log import ConsoleLog
from bot.store.dead_letters import DeadLetter, DeadLetters
from bot.store.erasure import Erasure
from bot.store.handoffs import Handoffs
from bot.store.keys import (
    ACTIVE,
    AUDIT,
    CONSOLE,
    DEAD_LETTERS,
    INBOUND,
    INBOUND_BACKLOG,
    MAX_TEXT,
    NGOS,
    ONLINE,
    OUTBOUND,
    PARTNERS,
    PREFIX,
    QUEUE,
    ROUTERS,
    SENDERS,
    TELEGRAM_OFFSET,
    TELEGRAM_POLLER,
    USERS,
    VOICES,
    WEB_REPLIED,
    conversation_key,
    failed_logins_key,
    login_failures_key,
    ngo_key,
    session_key,
    stats_key,
    user_devices_key,
    user_key,
    waits_key,
    web_key,
    web_ticket_key,
)
from bot.store.messages import Backlogged, Inbound, Messages, Outcome, Received, Reply, Turn
from bot.store.referrals import Referral, Referrals
from bot.store.states import PERSON, NotAllowed, State
from bot.store.statistics import Statistics


class Store(Messages, Handoffs, Referrals, DeadLetters, Erasure, ConsoleLog, Statistics, Backlogs):
    """The gateway's view of Redis."""


__all__ = [
    "ACTIVE",
    "AUDIT",
    "CONSOLE",
    "DEAD_LETTERS",
    "INBOUND",
    "INBOUND_BACKLOG",
    "MAX_TEXT",
    "NGOS",
    "ONLINE",
    "OUTBOUND",
    "PARTNERS",
    "PERSON",
    "PREFIX",
    "VOICES",
    "QUEUE",
    "ROUTERS",
    "SENDERS",
    "TELEGRAM_OFFSET",
    "TELEGRAM_POLLER",
    "USERS",
    "WEB_REPLIED",
    "Backlog",
    "Backlogged",
    "DeadLetter",
    "Inbound",
    "NotAllowed",
    "Referral",
    "Outcome",
    "Received",
    "Reply",
    "State",
    "Store",
    "Turn",
    "conversation_key",
    "failed_logins_key",
    "login_failures_key",
    "ngo_key",
    "session_key",
    "stats_key",
    "user_devices_key",
    "user_key",
    "waits_key",
    "web_key",
    "web_ticket_key",
]
