"""Where everything of the gateway lives in Redis: each key and stream, and how long it is kept.

A conversation is a hash `hl:conv:<id>` (state, channel, referral, language, counters), an
encrypted reply address, an encrypted transcript, and entries on the shared streams, filed under it
in `hl:entries:<id>` so that "forget me" finds them. Every key named by a conversation ends with its
id.
"""

from __future__ import annotations

from hotline.redis_keys import GATEWAY, RASA_LOCK, RASA_REPLIES, RASA_TRACKER

PREFIX = GATEWAY

# What people sent, and what to send back: each entry names its conversation and its place in it.
INBOUND = f"{PREFIX}:inbound"
OUTBOUND = f"{PREFIX}:outbound"
# The consumer groups that read them: the routers (to Rasa) and the senders (to the channels).
ROUTERS = "routers"
SENDERS = "senders"
# Entries that failed DELIVERY_ATTEMPTS times, for supervisors to see and send again (a stream of
# copies: stream, group, entry, error), and the failures counted so far ("<stream> <id>" -> count).
DEAD_LETTERS = f"{PREFIX}:dead"
FAILURES = f"{PREFIX}:failures"
DELIVERY_ATTEMPTS = 5
QUEUE = f"{PREFIX}:handoff:queue"
# Conversations an operator holds now: conversation -> when it was claimed.
ACTIVE = f"{PREFIX}:handoff:active"
# Conversations by their last message (the newest RECENT_KEPT), for operators to take one that did
# not ask for a person.
RECENT = f"{PREFIX}:conversations:recent"
RECENT_KEPT = 2000
# After "forget me", the web page's stream keeps the confirmation this long, then nothing is left.
ERASED_WEB_SECONDS = 60
# Conversations whose erasure was asked and is not done yet (a crash in between): the sweep does it.
FORGETTING = f"{PREFIX}:forgetting"
SWEEP_ERASURES = 100
# An erasure starts again when the conversation changed while it read the indexes; it gives up
# after this many tries (only the conversation's own messages, many a second, could cause that).
FORGET_TRIES = 20
# Telegram long polling: which process polls (a lease), and the next update to ask for.
TELEGRAM_POLLER = f"{PREFIX}:telegram:poller"
TELEGRAM_OFFSET = f"{PREFIX}:telegram:offset"
SEEN_SECONDS = 24 * 3600
# Telegram lets a bot delete a private chat's messages for 48 hours.
DELETABLE_SECONDS = 48 * 3600
TRANSCRIPT_LENGTH = 2000
# A message is read up to here; the rest is never stored (the person is told).
MAX_TEXT = 4000
# Received messages waiting to be handled beyond which new ones are refused for a while (the
# channels retry), before Redis runs out of memory.
INBOUND_BACKLOG = 20_000
WEB_BACKLOG = 500
# What the console shows live: an entry per hand-off event (queued, message, claimed, ...).
CONSOLE = f"{PREFIX}:console"
CONSOLE_BACKLOG = 10_000
# Who did or saw what in the console; append-only, except that "forget me" removes the lines
# about that conversation and lines older than AUDIT_KEPT_SECONDS go.
AUDIT = f"{PREFIX}:audit"
AUDIT_KEPT_SECONDS = 365 * 24 * 3600
# Operators with the console open: user -> last sign of life (a zset); "online" = seen lately.
ONLINE = f"{PREFIX}:operators:online"
ONLINE_SECONDS = 60
# Console accounts, their sessions, failed logins.
USERS = f"{PREFIX}:users"
# NGOs that share the service: their codes (a set), and one hash per NGO (bot/ngos.py).
NGOS = f"{PREFIX}:ngos"
# Envelopes to partner hotlines (bot/outbox.py): their ids by when they are next tried, and each
# one's partner, payload and attempts (sealed). An envelope leaves once the partner has it.
OUTBOX = f"{PREFIX}:outbox"
OUTBOX_ITEMS = f"{PREFIX}:outgoing"
# Referrals received from partner hotlines (bot/store/referrals.py), by envelope id, sealed; the
# ids by when they arrived; and the envelopes seen (a replay is refused).
RECEIVED = f"{PREFIX}:received"
RECEIVED_ORDER = f"{PREFIX}:received-order"
SEEN_ENVELOPES = f"{PREFIX}:envelopes-seen"
# The partner registry (bot/partners.py), by partner id: kept by supervisors, like NGOS.
PARTNERS = f"{PREFIX}:partners"
# The supervisors' recordings of the texts a person can listen to (bot/voices.py), by
# "<text>:<language>": content, kept until replaced or removed, like the content files.
VOICES = f"{PREFIX}:voices"
# Anonymous counts for the reports (bot/counts.py): per day (ICT), for everyone (`*`) and for each
# NGO's code, a hash of counters and a list of how long answered hand-offs waited. None names a
# conversation.
STATS_KEPT_SECONDS = 2 * 366 * 24 * 3600
# A pub/sub channel: the conversation whose web stream just got replies, so that each web process
# wakes the pages that show it (bot/page_streams.py). A message may be missed; pages look anyway.
WEB_REPLIED = f"{PREFIX}:webchat:replied"


def user_key(name: str) -> str:
    """The hash of one console account."""
    return f"{PREFIX}:user:{name}"


def session_key(digest: str) -> str:
    """One console session, by the digest of its cookie."""
    return f"{PREFIX}:session:{digest}"


def login_failures_key(who: str) -> str:
    """Failed logins of one user name or one address, counted for a while."""
    return f"{PREFIX}:login:fail:{who}"


def user_devices_key(name: str) -> str:
    """The browsers one account has signed in with: digests of their device cookies, scored by
    when they last signed in."""
    return f"{PREFIX}:devices:{name}"


def failed_logins_key(hour: int) -> str:
    """Failed sign-ins at existing accounts in one hour (hours since 1970): a hash of
    "wrong:<name>" and "refused:<name>" to counts."""
    return f"{PREFIX}:login:failed:{hour}"


def ngo_key(code: str) -> str:
    """The hash of one NGO of the registry."""
    return f"{PREFIX}:ngo:{code}"


def stats_key(day: str, who: str) -> str:
    """One day's counters for everyone (`*`) or one NGO's code."""
    return f"{PREFIX}:stats:{day}:counts:{who}"


def waits_key(day: str, who: str) -> str:
    """One day's waits for an operator, in seconds, for everyone (`*`) or one NGO's code."""
    return f"{PREFIX}:stats:{day}:waits:{who}"


def seen_key(event: str) -> str:
    """Marks a channel's event as accepted (by a keyed hash of its id), so a replay is dropped."""
    return f"{PREFIX}:seen:{event}"


def conversation_key(conv: str) -> str:
    """The hash of one conversation."""
    return f"{PREFIX}:conv:{conv}"


def address_key(conv: str) -> str:
    """Where the channel replies to the conversation, sealed."""
    return f"{PREFIX}:addr:{conv}"


def transcript_key(conv: str) -> str:
    """The conversation as stored, one sealed line per message."""
    return f"{PREFIX}:log:{conv}"


def referrals_key(conv: str) -> str:
    """The conversation's referrals to partners (bot/store/referrals.py), sealed, by id."""
    return f"{PREFIX}:referrals:{conv}"


def notes_key(conv: str) -> str:
    """Operators' private notes on one conversation."""
    return f"{PREFIX}:notes:{conv}"


def messages_key(conv: str) -> str:
    """Ids of the chat's messages (the person's and the bot's) that may still be deleted."""
    return f"{PREFIX}:msgs:{conv}"


def web_key(conv: str) -> str:
    """The stream of replies a web chat page reads (server-sent events)."""
    return f"{PREFIX}:web:{conv}"


def web_ticket_key(digest: str) -> str:
    """A one-use ticket that opens a web chat's event stream, by its digest: the conversation id."""
    return f"{PREFIX}:webticket:{digest}"


def entries_key(conv: str) -> str:
    """The conversation's entries on the shared streams ("<stream> <id>", scored by when they
    were added): messages not yet handled, replies not yet sent, console events, dead letters.
    "Forget me" finds them here instead of reading whole streams."""
    return f"{PREFIX}:entries:{conv}"


def audit_index_key(conv: str) -> str:
    """The audit lines about one conversation (their ids, scored by their order in the log)."""
    return f"{PREFIX}:audit:of:{conv}"


def keys_of(conv: str) -> list[str]:
    """Every key named by the conversation, Rasa's included (the web page's stream aside)."""
    return [
        conversation_key(conv),
        address_key(conv),
        transcript_key(conv),
        messages_key(conv),
        notes_key(conv),
        referrals_key(conv),
        entries_key(conv),
        audit_index_key(conv),
        RASA_TRACKER + conv,
        RASA_REPLIES + conv,
        RASA_LOCK + conv,
    ]


# Sealed values at rest, by the key's kind (`hl:<kind>:<conversation>`), and what holds them: the
# whole string, each item of a list, a hash's `handoff` field, or every field of a hash
# (bot/rotate_keys.py).
SEALED = {
    "addr": "string",
    "log": "list",
    "notes": "list",
    "conv": "hash",
    "referrals": "fields",
    "outgoing": "fields",
    "received": "fields",
}
