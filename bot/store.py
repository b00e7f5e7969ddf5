"""The conversation store: every Redis key, stream and state of the gateway, and the transitions
between states, in one place.

A conversation is a hash `hl:conv:<id>` (state, channel, referral, language, counters), an encrypted
reply address, an encrypted transcript, and entries on two streams:
- `hl:inbound`: what people sent, each with the conversation's next sequence number;
- `hl:outbound`: what to send back, each with its own per-conversation sequence number.
A worker handles entry n of a conversation only after n-1 (`in_done` / `out_done`), and marks it
done, acknowledges and deletes it in the same atomic step as its effects, so a crash at any point
replays the entry, a replay changes nothing twice, and no handled message stays in a stream.

States: bot (the assistant answers) -> waiting (a hand-off is queued; the bot is silent)
-> operator (a person answers) -> closed (the assistant answers again).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import redis.asyncio as aioredis

from bot import counts
from bot.privacy import conversation_id
from hotline.sealer import Sealer
from hotline.understood import Understood

log = logging.getLogger(__name__)

PREFIX = "hl"
INBOUND = f"{PREFIX}:inbound"
OUTBOUND = f"{PREFIX}:outbound"
QUEUE = f"{PREFIX}:handoff:queue"
# Conversations an operator holds now: conversation -> when it was claimed.
ACTIVE = f"{PREFIX}:handoff:active"
# Conversations by their last message (the newest RECENT_KEPT), for operators to take one that did
# not ask for a person.
RECENT = f"{PREFIX}:conversations:recent"
RECENT_KEPT = 2000
# Rasa's own keys in the same Redis, each named by the conversation: endpoints.yml (key_prefix)
# and rasa_plugins/router_channel.py.
RASA_TRACKER = "rasa:tracker:"
RASA_REPLIES = "rasa:replies:"
RASA_LOCK = "rasa:lock:"
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
ROUTERS = "routers"
SENDERS = "senders"
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
# Hand-off queue order: the most urgent first, then the longest waiting.
PRIORITY = {"immediate": 0, "high": 1, "medium": 2, "low": 3}
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


# NGOs that share the service: their codes (a set), and one hash per NGO (bot/ngos.py).
NGOS = f"{PREFIX}:ngos"


def ngo_key(code: str) -> str:
    """The hash of one NGO of the registry."""
    return f"{PREFIX}:ngo:{code}"


# Anonymous counts for the reports (bot/counts.py): per day (ICT), for everyone (`*`) and for each
# NGO's code, a hash of counters and a list of how long answered hand-offs waited. None names a
# conversation.
STATS_KEPT_SECONDS = 2 * 366 * 24 * 3600


def stats_key(day: str, who: str) -> str:
    """One day's counters for everyone (`*`) or one NGO's code."""
    return f"{PREFIX}:stats:{day}:counts:{who}"


def waits_key(day: str, who: str) -> str:
    """One day's waits for an operator, in seconds, for everyone (`*`) or one NGO's code."""
    return f"{PREFIX}:stats:{day}:waits:{who}"


def notes_key(conv: str) -> str:
    """Operators' private notes on one conversation."""
    return f"{PREFIX}:notes:{conv}"


class State(StrEnum):
    """Who answers the conversation now."""

    BOT = "bot"
    WAITING = "waiting"
    OPERATOR = "operator"
    CLOSED = "closed"


# (state, event) -> next state. Every change of state goes through `transition`.
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
}
# Events only the operator who holds the conversation may cause (or a supervisor).
HOLDER_ONLY = {"transfer", "reply", "close", "risk"}
# Who ends a hand-off when the person leaves quickly or goes back to the assistant.
PERSON = "person"


class Backlogged(RuntimeError):
    """Too many received messages wait to be handled: the channel should try again later."""


class NotAllowed(ValueError):
    """The hand-off event is not possible now; the message says why, for the operator."""


def queue_score(risk: str, since: float) -> int:
    """A hand-off's place in the queue: the most urgent first, then the longest waiting."""
    return PRIORITY.get(risk, len(PRIORITY)) * 10**10 + int(since)


def starts_of(event: str) -> list[str]:
    """The states an event may happen in (for the Lua scripts, which check them in Redis)."""
    return [state.value for state, happens in TRANSITIONS if happens == event]


def transition(state: State, event: str) -> State:
    """The state after an event; NotAllowed when the event is not allowed in that state."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise NotAllowed(f"'{event}' is not possible while the conversation is {state}") from None


class Turn(StrEnum):
    """Whether a stream entry may be handled now."""

    GO = "go"
    DONE = "done"
    LATER = "later"


@dataclass(frozen=True)
class Inbound:
    """A message as a channel received it. `user` and `address` are stored only as a hash and
    encrypted respectively."""

    channel: str
    user: str
    event_id: str
    text: str = ""
    kind: str = "text"
    address: dict[str, Any] = field(default_factory=dict)
    referral: str = ""
    # The channel's id of the message, kept while the channel still lets a bot delete it.
    message_id: str = ""


def conversation_key(conv: str) -> str:
    """The hash of one conversation."""
    return f"{PREFIX}:conv:{conv}"


def _address_key(conv: str) -> str:
    return f"{PREFIX}:addr:{conv}"


def _transcript_key(conv: str) -> str:
    return f"{PREFIX}:log:{conv}"


def _messages_key(conv: str) -> str:
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
    were added): messages not yet handled, replies not yet sent, console events. "Forget me"
    finds them here instead of reading whole streams."""
    return f"{PREFIX}:entries:{conv}"


def audit_index_key(conv: str) -> str:
    """The audit lines about one conversation (their ids, scored by their order in the log)."""
    return f"{PREFIX}:audit:of:{conv}"


def keys_of(conv: str) -> list[str]:
    """Every key named by the conversation, Rasa's included (the web page's stream aside)."""
    return [
        conversation_key(conv),
        _address_key(conv),
        _transcript_key(conv),
        _messages_key(conv),
        notes_key(conv),
        entries_key(conv),
        audit_index_key(conv),
        RASA_TRACKER + conv,
        RASA_REPLIES + conv,
        RASA_LOCK + conv,
    ]


# A pub/sub channel: the conversation whose web stream just got replies, so that each web process
# wakes the pages that show it (bot/page_streams.py). A message may be missed; pages look anyway.
WEB_REPLIED = f"{PREFIX}:webchat:replied"


# Lua shared by the scripts that add to a shared stream: files the entry under its conversation
# (entries_key), dropping what is older than the conversation's time to live.
_INDEXED = """
local function indexed(index, stream, id, now, ttl)
  redis.call('ZADD', index, now, stream .. ' ' .. id)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(now) - tonumber(ttl))
  redis.call('EXPIRE', index, ttl)
  return id
end
"""

# KEYS: a stream, the conversation's entries. ARGV: now, ttl, the stream's length kept ('' for
# all), then field, value, ... Adds an entry and files it under the conversation.
_XADD = (
    _INDEXED
    + """
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id
if ARGV[3] == '' then id = redis.call('XADD', KEYS[1], '*', unpack(fields))
else id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(fields)) end
return indexed(KEYS[2], KEYS[1], id, ARGV[1], ARGV[2])
"""
)

# KEYS: the audit log, the conversation's audit index, the conversation. ARGV: now, how long lines
# are kept, the conversation id, then field, value, ... The index's score is the entry's id as a
# number (ms * 1000 + sequence), so pages of one conversation's lines follow the log's order. A
# conversation that is gone (erased, or expired) is not named: nothing of it comes back.
_AUDIT = """
local fields = {'conv', ''}
if redis.call('EXISTS', KEYS[3]) == 1 then fields[2] = ARGV[3] end
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
if fields[2] == '' then return id end
local ms, seq = string.match(id, '(%d+)-(%d+)')
redis.call('ZADD', KEYS[2], tonumber(ms) * 1000 + tonumber(seq), id)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', (tonumber(ARGV[1]) - tonumber(ARGV[2])) * 1000000)
redis.call('EXPIRE', KEYS[2], ARGV[2])
return id
"""

# KEYS: seen, conversation, inbound, address, message ids, NGO codes, entries. ARGV: now, ttl,
# seen_ttl,
# channel, kind, text, referral, address, conversation id, message id, how long a message may be
# deleted, the inbound backlog that refuses more, '1' when the text was cut.
_ACCEPT = (
    _INDEXED
    + """
if redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[12]) then return -1 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return false end
local seq = redis.call('HINCRBY', KEYS[2], 'in_seq', 1)
if redis.call('HSETNX', KEYS[2], 'state', 'bot') == 1 then
  redis.call('HSET', KEYS[2], 'channel', ARGV[4], 'created', ARGV[1], 'in_done', 0,
             'out_seq', 0, 'out_done', 0)
end
if ARGV[7] ~= '' and redis.call('SISMEMBER', KEYS[6], ARGV[7]) == 1 then
  redis.call('HSETNX', KEYS[2], 'referral', ARGV[7])
end
redis.call('HSET', KEYS[2], 'active', ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[4], ARGV[8], 'EX', ARGV[2])
if ARGV[10] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[1], ARGV[10])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[1] - ARGV[11])
  redis.call('EXPIRE', KEYS[5], ARGV[11])
end
local id = redis.call('XADD', KEYS[3], '*', 'conv', ARGV[9], 'seq', seq, 'channel', ARGV[4],
                      'kind', ARGV[5], 'text', ARGV[6], 'cut', ARGV[13])
return indexed(KEYS[7], KEYS[3], id, ARGV[1], ARGV[2])
"""
)

# KEYS: conversation, inbound, outbound, transcript, queue, console, recent, the day's counters for
# everyone, and for the conversation's NGO (the same key when it has none), entries, the
# conversations to erase.
# ARGV: group, entry id, seq,
# now, ttl, transcript lines (sealed, joined by newline), replies (sealed or ''), handoff score
# or '', conversation id, channel, risk, language, transcript length, forget ('1' or ''),
# hand-off (sealed), reason, console event ('' or 'message'), console backlog, country, how many
# recent conversations to keep, quick exit ('1' or ''), sealed address (with forget), counters
# to add 1 to (joined by newline), how long counters are kept, counters to add 1 to if the
# conversation was not counted yet, the states a hand-off may start from (TRANSITIONS, joined by
# spaces: an operator who took the conversation while the assistant answered keeps it). A
# conversation that is gone (erased or expired) takes nothing more: its entry is dropped. The
# confirmation of "forget me" is not filed under the conversation: it is sent after the erasure.
_FINISH_INBOUND = (
    _INDEXED
    + """
redis.call('ZREM', KEYS[10], KEYS[2] .. ' ' .. ARGV[2])
local done = tonumber(redis.call('HGET', KEYS[1], 'in_done') or '0')
if done >= tonumber(ARGV[3]) or redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], 'in_done', ARGV[3], 'active', ARGV[4])
redis.call('ZADD', KEYS[7], ARGV[4], ARGV[9])
redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -tonumber(ARGV[20]) - 1)
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'language', ARGV[12]) end
for line in string.gmatch(ARGV[6], '[^\\n]+') do redis.call('RPUSH', KEYS[4], line) end
redis.call('LTRIM', KEYS[4], -tonumber(ARGV[13]), -1)
if ARGV[7] ~= '' then
  local out = redis.call('HINCRBY', KEYS[1], 'out_seq', 1)
  local id = redis.call('XADD', KEYS[3], '*', 'conv', ARGV[9], 'seq', out, 'channel', ARGV[10],
                        'reply_to', ARGV[3], 'replies', ARGV[7], 'forget', ARGV[14],
                        'exit', ARGV[21], 'address', ARGV[22])
  if ARGV[14] == '' then indexed(KEYS[10], KEYS[3], id, ARGV[4], ARGV[5]) end
end
if ARGV[14] ~= '' then
  redis.call('HSET', KEYS[1], 'forgetting', '1')
  redis.call('SADD', KEYS[11], ARGV[9])
end
local state = redis.call('HGET', KEYS[1], 'state') or 'bot'
if ARGV[8] ~= '' and string.find(' ' .. ARGV[26] .. ' ', ' ' .. state .. ' ', 1, true) then
  redis.call('HSET', KEYS[1], 'state', 'waiting', 'risk', ARGV[11], 'waiting_since', ARGV[4],
             'handoff', ARGV[15], 'reason', ARGV[16], 'country', ARGV[19])
  redis.call('HDEL', KEYS[1], 'operator', 'claimed_at', 'waited')
  redis.call('ZADD', KEYS[5], ARGV[8], ARGV[9])
  indexed(KEYS[10], KEYS[6], redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[18], '*',
          'kind', 'queued', 'conv', ARGV[9], 'risk', ARGV[11]), ARGV[4], ARGV[5])
end
if ARGV[17] ~= '' then
  indexed(KEYS[10], KEYS[6], redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[18], '*',
          'kind', ARGV[17], 'conv', ARGV[9]), ARGV[4], ARGV[5])
end
local counters = ARGV[23]
if ARGV[25] ~= '' and redis.call('HSETNX', KEYS[1], 'counted', '1') == 1 then
  counters = counters .. '\\n' .. ARGV[25]
end
if counters ~= '' then
  local whose = KEYS[8] == KEYS[9] and {KEYS[8]} or {KEYS[8], KEYS[9]}
  for _, key in ipairs(whose) do
    for counter in string.gmatch(counters, '[^\\n]+') do
      redis.call('HINCRBY', key, counter, 1)
    end
    redis.call('EXPIRE', key, ARGV[24])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[4], ARGV[5])
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
"""
)

# KEYS: conversation, outbound, web stream, entries. ARGV: group, entry id, seq, web entry ('' when
# the channel is not the web chat), ttl, web backlog, reply_to, how long the web stream of an erased
# conversation stays (for the page to show the last reply), the channel that tells the web
# processes, the conversation id.
_FINISH_OUTBOUND = """
redis.call('ZREM', KEYS[4], KEYS[2] .. ' ' .. ARGV[2])
local gone = redis.call('EXISTS', KEYS[1]) == 0
if not gone then
  local done = tonumber(redis.call('HGET', KEYS[1], 'out_done') or '0')
  if done >= tonumber(ARGV[3]) then
    redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
    redis.call('XDEL', KEYS[2], ARGV[2])
    return 0
  end
  redis.call('HSET', KEYS[1], 'out_done', ARGV[3])
end
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'reply_to', ARGV[7], 'replies', ARGV[4])
  redis.call('EXPIRE', KEYS[3], gone and ARGV[8] or ARGV[5])
  redis.call('PUBLISH', ARGV[9], ARGV[10])
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
"""

# KEYS: conversation, queue, console, entries. ARGV: now, seq, conversation id, console backlog,
# the queue score of an immediate hand-off queued at time 0, ttl.
_RAISE_DANGER = (
    _INDEXED
    + """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'waiting' and state ~= 'operator' then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'danger_seq') or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'risk', 'immediate', 'danger_at', ARGV[1], 'danger_in', state,
           'danger_seq', ARGV[2], 'danger_open', '1')
if state == 'waiting' then
  local since = math.floor(tonumber(redis.call('HGET', KEYS[1], 'waiting_since') or ARGV[1]))
  redis.call('ZADD', KEYS[2], tonumber(ARGV[5]) + since, ARGV[3])
end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'kind', 'danger',
                      'conv', ARGV[3], 'risk', 'immediate',
                      'holder', redis.call('HGET', KEYS[1], 'operator') or '', 'state', state)
indexed(KEYS[4], KEYS[3], id, ARGV[1], ARGV[6])
return 1
"""
)

# KEYS: conversation, outbound, entries. ARGV: now, replies (sealed), conversation id, ttl.
_TELL = (
    _INDEXED
    + """
local channel = redis.call('HGET', KEYS[1], 'channel')
if not channel then return 0 end
local out = redis.call('HINCRBY', KEYS[1], 'out_seq', 1)
indexed(KEYS[3], KEYS[2], redis.call('XADD', KEYS[2], '*', 'conv', ARGV[3], 'seq', out,
        'channel', channel, 'reply_to', '', 'replies', ARGV[2]), ARGV[1], ARGV[4])
return 1
"""
)

# KEYS: conversation, outbound, transcript, console, entries. ARGV: now, seconds before the first
# reminder, seconds between reminders, replies (sealed), transcript line (sealed), conversation id,
# transcript length, console backlog, ttl.
_REMIND = (
    _INDEXED
    + """
if redis.call('HGET', KEYS[1], 'state') ~= 'waiting' then return 0 end
local now = tonumber(ARGV[1])
local since = tonumber(redis.call('HGET', KEYS[1], 'waiting_since') or ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[1], 'reminded_at') or '0')
local due = since + tonumber(ARGV[2])
if last >= since then due = math.max(due, last + tonumber(ARGV[3])) end
if now < due then return 0 end
redis.call('HSET', KEYS[1], 'reminded_at', ARGV[1])
local out = redis.call('HINCRBY', KEYS[1], 'out_seq', 1)
indexed(KEYS[5], KEYS[2], redis.call('XADD', KEYS[2], '*', 'conv', ARGV[6], 'seq', out,
        'channel', redis.call('HGET', KEYS[1], 'channel'), 'reply_to', '', 'replies', ARGV[4]),
        ARGV[1], ARGV[9])
redis.call('RPUSH', KEYS[3], ARGV[5])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[7]), -1)
indexed(KEYS[5], KEYS[4], redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*',
        'kind', 'reminded', 'conv', ARGV[6]), ARGV[1], ARGV[9])
return 1
"""
)


class Store:
    """The gateway's view of Redis."""

    def __init__(
        self, client: aioredis.Redis, id_secret: bytes, message_key: bytes, ttl: int
    ) -> None:
        """Uses a client created with decode_responses=True."""
        self.redis = client
        self.id_secret = id_secret
        self.sealer = Sealer(message_key)
        self.ttl = ttl
        self._accept = client.register_script(_ACCEPT)
        self._finish_inbound = client.register_script(_FINISH_INBOUND)
        self._finish_outbound = client.register_script(_FINISH_OUTBOUND)
        self._raise_danger = client.register_script(_RAISE_DANGER)
        self._remind = client.register_script(_REMIND)
        self._tell = client.register_script(_TELL)
        self._xadd = client.register_script(_XADD)
        self._audit = client.register_script(_AUDIT)

    def conversation_id(self, channel: str, user: str) -> str:
        """The pseudonymous id of a channel's user."""
        return conversation_id(self.id_secret, channel, user)

    async def accept(self, message: Inbound) -> str | None:
        """Queues a received message, cut to MAX_TEXT characters before anything is stored; None
        when this event was seen before (a replay). Backlogged when the inbound stream has
        INBOUND_BACKLOG messages waiting: the channel is told to try later. A referral code is
        kept only when it is a registered NGO's."""
        conv = self.conversation_id(message.channel, message.user)
        text = message.text[:MAX_TEXT]
        entry = await self._accept(
            keys=[
                self._seen_key(message),
                conversation_key(conv),
                INBOUND,
                _address_key(conv),
                _messages_key(conv),
                NGOS,
                entries_key(conv),
            ],
            args=[
                _now(),
                self.ttl,
                SEEN_SECONDS,
                message.channel,
                message.kind,
                self.sealer.seal(text),
                message.referral,
                self.sealer.seal(message.address),
                conv,
                message.message_id,
                min(DELETABLE_SECONDS, self.ttl),
                INBOUND_BACKLOG,
                "1" if len(message.text) > MAX_TEXT else "",
            ],
        )
        if entry == -1:
            raise Backlogged(f"{INBOUND_BACKLOG} messages are waiting to be handled")
        return conv if entry else None

    def _seen_key(self, message: Inbound) -> str:
        # The event id may hold the user's id (the web chat's client id lets one read its
        # replies): only a keyed hash of it is stored.
        return f"{PREFIX}:seen:{self.conversation_id(message.channel, message.event_id)}"

    async def seen(self, message: Inbound) -> bool:
        """Whether this event was accepted before (a channel sending it again)."""
        return bool(await self.redis.exists(self._seen_key(message)))

    async def conversation(self, conv: str) -> dict[str, str]:
        """The conversation's hash (empty when unknown or expired)."""
        found: dict[str, str] = await self.redis.hgetall(conversation_key(conv))
        return found

    async def state(self, conv: str) -> State:
        """Who answers the conversation now."""
        return State(await self.redis.hget(conversation_key(conv), "state") or State.BOT)

    async def address(self, conv: str) -> dict[str, Any]:
        """What a channel needs to reply to the conversation."""
        sealed = await self.redis.get(_address_key(conv))
        found: dict[str, Any] = self.sealer.open(sealed) if sealed else {}
        return found

    async def wait_turn(self, conv: str, seq: int, counter: str, seconds: float = 5.0) -> Turn:
        """Waits until entry `seq` comes next under `counter` (in_done or out_done)."""
        deadline = time.monotonic() + seconds
        pause = 0.005
        while True:
            done = int(await self.redis.hget(conversation_key(conv), counter) or 0)
            if done >= seq:
                return Turn.DONE
            if done == seq - 1:
                return Turn.GO
            if time.monotonic() > deadline:
                return Turn.LATER
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    async def finish_inbound(
        self,
        entry_id: str,
        fields: dict[str, str],
        text: str,
        replies: list[dict[str, Any]],
        handoff: dict[str, Any] | None,
        language: str,
        forget: bool = False,
        for_operator: bool = False,
        leave: bool = False,
        tally: counts.Tally = counts.NOTHING,
        understood: Understood | None = None,
    ) -> bool:
        """Records a handled message, queues the replies and any hand-off, acknowledges the entry:
        all or nothing. `forget`: the conversation is to be erased (`forget` does it) and the
        replies carry their address. `for_operator`: the message waits for a person (the console
        is told). `leave`: a quick exit; the channel first deletes what it can. `tally`: what
        it adds to the reports' counters (bot/counts.py). `understood`: what the assistant
        understood of it, kept beside it for the operators. False when it had been done before."""
        conv = fields["conv"]
        now = _now()
        day = counts.day(now)
        person: dict[str, Any] = {"at": now, "from": "person", "text": text}
        if understood is not None:
            person["understood"] = understood
        lines = [self.sealer.seal(person)]
        if replies:
            lines.append(self.sealer.seal({"at": now, "from": "bot", "replies": replies}))
        risk = str((handoff or {}).get("risk") or "")
        score = ""
        if handoff is not None:
            score = str(queue_score(risk, now))
        result = await self._finish_inbound(
            keys=[
                conversation_key(conv),
                INBOUND,
                OUTBOUND,
                _transcript_key(conv),
                QUEUE,
                CONSOLE,
                RECENT,
                stats_key(day, counts.ALL),
                stats_key(day, tally.referral or counts.ALL),
                entries_key(conv),
                FORGETTING,
            ],
            args=[
                ROUTERS,
                entry_id,
                fields["seq"],
                now,
                self.ttl,
                "\n".join(lines),
                self.sealer.seal(replies) if replies else "",
                score,
                conv,
                fields["channel"],
                risk,
                language,
                TRANSCRIPT_LENGTH,
                "1" if forget else "",
                self.sealer.seal(handoff) if handoff is not None else "",
                str((handoff or {}).get("reason") or ""),
                "message" if for_operator else "",
                CONSOLE_BACKLOG,
                str((handoff or {}).get("country") or ""),
                RECENT_KEPT,
                "1" if leave else "",
                (await self.redis.get(_address_key(conv)) or "") if forget else "",
                "\n".join(tally.counted),
                STATS_KEPT_SECONDS,
                "\n".join(tally.opening),
                " ".join(starts_of("handoff")),
            ],
        )
        return bool(result)

    async def finish_outbound(self, entry_id: str, fields: dict[str, str], web: bool) -> bool:
        """Marks replies delivered and acknowledges them; for the web chat, delivering is adding
        them to the page's stream, in the same step. False when done before."""
        conv = fields["conv"]
        result = await self._finish_outbound(
            keys=[conversation_key(conv), OUTBOUND, web_key(conv), entries_key(conv)],
            args=[
                SENDERS,
                entry_id,
                fields["seq"],
                fields["replies"] if web else "",
                self.ttl,
                WEB_BACKLOG,
                fields.get("reply_to", ""),
                ERASED_WEB_SECONDS,
                WEB_REPLIED,
                conv,
            ],
        )
        return bool(result)

    async def transcript(self, conv: str) -> list[dict[str, Any]]:
        """The conversation as stored, decrypted, oldest first."""
        return [
            self.sealer.open(line) for line in await self.redis.lrange(_transcript_key(conv), 0, -1)
        ]

    async def forget(self, conv: str) -> None:
        """Erases every trace of the conversation now: every key named by it (its hash, address,
        transcript, notes, message ids, Rasa's tracker and replies), its places in the queues, its
        entries on the shared streams and the audit log's lines about it, all found through the
        conversation's indexes: the work grows with this conversation, never with all stored data.
        One audit line, without the conversation's id, records that an erasure happened. Only the
        reply confirming it is still delivered (it is not indexed and carries its address), and a
        web page's stream of replies stays ERASED_WEB_SECONDS for the page to show it. Only
        deletions: it works even when Redis is full (the audit line is then left out)."""
        index, audited = entries_key(conv), audit_index_key(conv)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(FORGET_TRIES):
                try:
                    # A message that arrives meanwhile is filed in the index: read it again.
                    await pipe.watch(index, audited)
                    filed: list[str] = await pipe.zrange(index, 0, -1)
                    lines: list[str] = await pipe.zrange(audited, 0, -1)
                    by_stream: dict[str, list[str]] = {}
                    for member in filed:
                        stream, _, entry_id = member.partition(" ")
                        by_stream.setdefault(stream, []).append(entry_id)
                    pipe.multi()
                    pipe.delete(*keys_of(conv))
                    # The page may not have shown the confirmation yet.
                    pipe.expire(web_key(conv), ERASED_WEB_SECONDS)
                    for zset in (QUEUE, ACTIVE, RECENT):
                        pipe.zrem(zset, conv)
                    for stream, group in ((INBOUND, ROUTERS), (OUTBOUND, SENDERS)):
                        if by_stream.get(stream):
                            pipe.xack(stream, group, *by_stream[stream])
                    for stream, ids in by_stream.items():
                        pipe.xdel(stream, *ids)
                    if lines:
                        pipe.xdel(AUDIT, *lines)
                    pipe.srem(FORGETTING, conv)
                    await pipe.execute()
                    break
                except aioredis.WatchError:
                    continue
            else:
                raise RuntimeError(f"the conversation kept changing: not erased in {FORGET_TRIES}")
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                erased = {"at": _now(), "user": "", "action": "erased", "conv": "", "detail": ""}
                pipe.xadd(AUDIT, erased)
                pipe.xadd(CONSOLE, {"kind": "erased"}, maxlen=CONSOLE_BACKLOG, approximate=True)
                await pipe.execute()
        except aioredis.ResponseError as error:
            log.warning("an erasure was done but not recorded: %s", error)

    async def sweep(self) -> int:
        """Retention for what is shared by conversations: erases the conversations whose erasure a
        crash interrupted, drops from the queues and lists the conversations whose keys have
        expired, console events older than the retention time and audit lines older than
        AUDIT_KEPT_SECONDS; how many entries went. Every process may run it (it changes nothing
        twice)."""
        removed = 0
        for conv in await self.redis.srandmember(FORGETTING, SWEEP_ERASURES) or []:
            await self.forget(conv)
            removed += 1
        for zset in (QUEUE, ACTIVE, RECENT):
            members: list[str] = await self.redis.zrange(zset, 0, -1)
            async with self.redis.pipeline(transaction=False) as pipe:
                for conv in members:
                    pipe.exists(conversation_key(conv))
                alive = await pipe.execute()
            gone = [conv for conv, exists in zip(members, alive, strict=True) if not exists]
            if gone:
                removed += await self.redis.zrem(zset, *gone)
        now_ms = int(time.time() * 1000)
        for stream, kept in ((CONSOLE, self.ttl), (AUDIT, AUDIT_KEPT_SECONDS)):
            removed += await self.redis.xtrim(stream, minid=f"{now_ms - kept * 1000}-0")
        return removed

    async def forgetting(self, conv: str) -> bool:
        """Whether an erasure was asked for and not yet done (a crash in between)."""
        return bool(await self.redis.hget(conversation_key(conv), "forgetting"))

    async def left(self, conv: str, note: str) -> None:
        """Ends the hand-off of a person who left quickly, with a note for the operators."""
        try:
            await self.change(conv, "close", PERSON, supervisor=True)
        except NotAllowed:
            return
        await self.add_note(conv, "", note)

    async def withdraw(self, conv: str, seq: int, note: str) -> bool:
        """A person still waiting goes back to the assistant: the hand-off leaves the queue, with a
        note for the operators; message `seq` did it (a replay of it finds `withdrawn_in`). False
        when the conversation was not waiting."""
        key = conversation_key(conv)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    state = State(await pipe.hget(key, "state") or State.BOT)
                    if state is not State.WAITING:
                        return False
                    new = transition(state, "withdraw")
                    pipe.multi()
                    pipe.hset(key, mapping={"state": new.value, "withdrawn_in": seq})
                    pipe.zrem(QUEUE, conv)
                    await self._note(pipe, conv, "", note)
                    await self._console_event(pipe, conv, {"kind": "withdraw", "by": PERSON})
                    await pipe.execute()
                    return True
                except aioredis.WatchError:
                    continue

    async def raise_danger(self, conv: str, seq: int) -> bool:
        """Danger said by a person who waits for an operator or talks with one (message `seq`):
        the hand-off becomes immediate, goes to the top of the queue, and the console is alerted
        (every online operator while it waits; the holder and the supervisors when held). It stays
        immediate until an operator sets the risk or closes. False when there is no hand-off, or
        this message raised it already (a replay)."""
        raised = await self._raise_danger(
            keys=[conversation_key(conv), QUEUE, CONSOLE, entries_key(conv)],
            args=[_now(), seq, conv, CONSOLE_BACKLOG, queue_score("immediate", 0), self.ttl],
        )
        return bool(raised)

    async def remind(
        self, conv: str, first_after: float, every: float, replies: list[dict[str, Any]]
    ) -> bool:
        """Tells a person who is still waiting that they are (`replies`), once `first_after`
        seconds after the hand-off was queued and then at most every `every` seconds. Atomic: with
        several workers, one sends it. False when it is not due, or the hand-off is over."""
        now = _now()
        line = self.sealer.seal({"at": now, "from": "bot", "replies": replies, "reminder": True})
        sent = await self._remind(
            keys=[
                conversation_key(conv),
                OUTBOUND,
                _transcript_key(conv),
                CONSOLE,
                entries_key(conv),
            ],
            args=[
                now,
                first_after,
                every,
                self.sealer.seal(replies),
                line,
                conv,
                TRANSCRIPT_LENGTH,
                CONSOLE_BACKLOG,
                self.ttl,
            ],
        )
        return bool(sent)

    async def tell(self, conv: str, replies: list[dict[str, Any]]) -> bool:
        """Sends the person something outside the conversation (not kept in its transcript), after
        what is already queued for them. False when there is no such conversation."""
        told = await self._tell(
            keys=[conversation_key(conv), OUTBOUND, entries_key(conv)],
            args=[_now(), self.sealer.seal(replies), conv, self.ttl],
        )
        return bool(told)

    async def remember_messages(self, conv: str, ids: list[str]) -> None:
        """Keeps the ids of messages sent to the chat while the channel lets a bot delete them."""
        if not ids:
            return
        key, now = _messages_key(conv), _now()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, dict.fromkeys(ids, now))
            pipe.zremrangebyscore(key, "-inf", now - DELETABLE_SECONDS)
            pipe.expire(key, min(DELETABLE_SECONDS, self.ttl))
            await pipe.execute()

    async def deletable_messages(self, conv: str) -> list[str]:
        """Ids of the chat's messages, the person's and the bot's, that may still be deleted."""
        found: list[str] = await self.redis.zrangebyscore(
            _messages_key(conv), _now() - DELETABLE_SECONDS + 60, "+inf"
        )
        return found

    async def drop_messages(self, conv: str) -> None:
        """Forgets the message ids (the messages were deleted)."""
        await self.redis.delete(_messages_key(conv))

    async def change(
        self,
        conv: str,
        event: str,
        by: str,
        *,
        supervisor: bool = False,
        to: str = "",
        say: str = "",
        risk: str = "",
    ) -> State:
        """Applies a hand-off event of the console, all or nothing: claim (by an operator), transfer
        (to another operator), reply (`say` to the person), close (`say` a last message), risk
        (set to `risk`: the only way danger said while waiting is lowered). Only the holder, or a
        supervisor, may transfer, reply, close or set the risk. NotAllowed says why not."""
        if event == "risk" and risk not in PRIORITY:
            raise NotAllowed(f"no such risk level: {risk!r}")
        key = conversation_key(conv)
        now = _now()
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    found: dict[str, str] = await pipe.hgetall(key)
                    if not found:
                        raise NotAllowed("this conversation no longer exists")
                    current = State(found.get("state") or State.BOT)
                    holder = found.get("operator", "")
                    if event == "claim" and current is State.OPERATOR:
                        raise NotAllowed(f"{holder} has already taken this conversation")
                    new = transition(current, event)
                    if event in HOLDER_ONLY and holder and holder != by and not supervisor:
                        raise NotAllowed(f"{holder} holds this conversation, not you")
                    if event == "risk" and current is State.WAITING and not supervisor:
                        raise NotAllowed("take this conversation before you set its risk")
                    pipe.multi()
                    fields: dict[str, str | float] = {"state": new.value, "active": now}
                    if event == "claim" and current is State.WAITING:
                        since = float(found.get("waiting_since") or now)
                        fields |= {"operator": by, "claimed_at": now, "waited": now - since}
                        self._count_answered(pipe, found, now, now - since)
                    elif event == "claim":
                        # Taken from the list: nobody asked, nobody waited.
                        fields |= {"operator": by, "claimed_at": now, "reason": "operator"}
                        pipe.hdel(key, "waited")
                    if event == "transfer":
                        fields["operator"] = to
                    if event == "risk":
                        fields["risk"] = risk
                        if current is State.WAITING:
                            since = float(found.get("waiting_since") or now)
                            pipe.zadd(QUEUE, {conv: queue_score(risk, since)})
                    if event in ("risk", "close") and by != PERSON:
                        # An operator has seen to the danger; a person who left quickly has not.
                        pipe.hdel(key, "danger_open")
                    pipe.hset(key, mapping=fields)
                    if new is not State.WAITING:
                        pipe.zrem(QUEUE, conv)
                    if new is State.OPERATOR and event == "claim":
                        pipe.zadd(ACTIVE, {conv: now})
                    if new is State.CLOSED:
                        pipe.zrem(ACTIVE, conv)
                    if say:
                        line = {"at": now, "from": "operator", "by": by, "text": say}
                        pipe.rpush(_transcript_key(conv), self.sealer.seal(line))
                        reply = {
                            "conv": conv,
                            "seq": int(found.get("out_seq") or 0) + 1,
                            "channel": found.get("channel", ""),
                            "reply_to": "",
                            "replies": self.sealer.seal([{"text": say}]),
                        }
                        await self._filed(pipe, OUTBOUND, conv, reply)
                        pipe.hset(key, "out_seq", int(found.get("out_seq") or 0) + 1)
                    event_fields = {"kind": event, "by": by, "to": to, "risk": risk}
                    await self._console_event(pipe, conv, event_fields)
                    await pipe.execute()
                    return new
                except aioredis.WatchError:
                    continue

    @staticmethod
    def _count_answered(pipe: Any, conversation: dict[str, str], now: float, waited: float) -> None:
        """Counts an answered hand-off and how long it waited, in the claim's transaction."""
        day = counts.day(now)
        referral = conversation.get("referral", "")
        for who in counts.whom(referral):
            for counter in counts.fields("answered", referral, conversation):
                pipe.hincrby(stats_key(day, who), counter, 1)
            pipe.expire(stats_key(day, who), STATS_KEPT_SECONDS)
            pipe.rpush(waits_key(day, who), round(waited, 1))
            pipe.expire(waits_key(day, who), STATS_KEPT_SECONDS)

    async def statistics(self, days: Sequence[str], referral: str = "") -> list[counts.Day]:
        """The counts of each day, for everyone or for one NGO's code."""
        who = referral or counts.ALL
        async with self.redis.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hgetall(stats_key(day, who))
                pipe.lrange(waits_key(day, who), 0, -1)
            found: list[Any] = await pipe.execute()
        return [counts.Day.read(day, found[2 * i], found[2 * i + 1]) for i, day in enumerate(days)]

    async def add_note(self, conv: str, by: str, text: str) -> None:
        """A private note of an operator on the conversation (never sent to the person); none on
        a conversation that no longer exists."""
        if not await self.redis.exists(conversation_key(conv)):
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            await self._note(pipe, conv, by, text)
            await pipe.execute()

    async def _note(self, pipe: Any, conv: str, by: str, text: str) -> None:
        """Adds a note in a transaction."""
        key = notes_key(conv)
        pipe.rpush(key, self.sealer.seal({"at": _now(), "by": by, "text": text}))
        pipe.expire(key, self.ttl)
        await self._console_event(pipe, conv, {"kind": "note", "by": by})

    async def _console_event(self, pipe: Any, conv: str, fields: dict[str, str]) -> None:
        """Tells the console about the conversation, in a transaction."""
        await self._filed(pipe, CONSOLE, conv, {"kind": fields["kind"], "conv": conv, **fields})

    async def _filed(self, pipe: Any, stream: str, conv: str, fields: dict[str, Any]) -> None:
        """Adds a stream entry about the conversation and files it under it, in a transaction."""
        backlog = CONSOLE_BACKLOG if stream == CONSOLE else ""
        pairs = [str(part) for item in fields.items() for part in item]
        await self._xadd(
            keys=[stream, entries_key(conv)], args=[_now(), self.ttl, backlog, *pairs], client=pipe
        )

    async def notes(self, conv: str) -> list[dict[str, Any]]:
        """The conversation's notes, oldest first."""
        return [self.sealer.open(n) for n in await self.redis.lrange(notes_key(conv), 0, -1)]

    async def handoff(self, conv: str) -> dict[str, Any]:
        """What the bot's hand-off request said: reason, risk, language, country, answers."""
        sealed = await self.redis.hget(conversation_key(conv), "handoff")
        found: dict[str, Any] = self.sealer.open(sealed) if sealed else {}
        return found

    async def waiting(self, limit: int = 1000) -> list[tuple[str, dict[str, str]]]:
        """Queued conversations, most urgent first, then longest waiting, with their hashes."""
        return await self._with_hashes(await self.redis.zrange(QUEUE, 0, limit - 1))

    async def with_operators(self) -> list[tuple[str, dict[str, str]]]:
        """Conversations an operator holds now, longest held first, with their hashes."""
        return await self._with_hashes(await self.redis.zrange(ACTIVE, 0, -1))

    async def recent(self, limit: int = 50) -> list[tuple[str, dict[str, str]]]:
        """Conversations with the assistant (not waiting, not with an operator), the most recently
        active first, with their hashes."""
        found = await self._with_hashes(await self.redis.zrevrange(RECENT, 0, limit * 4 - 1))
        idle = (State.BOT.value, State.CLOSED.value)
        return [(c, h) for c, h in found if h.get("state") in idle][:limit]

    async def _with_hashes(self, convs: list[str]) -> list[tuple[str, dict[str, str]]]:
        """The conversations with their hashes (one round trip), leaving out expired ones."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.hgetall(conversation_key(conv))
            found: list[dict[str, str]] = await pipe.execute()
        return [(c, h) for c, h in zip(convs, found, strict=True) if h]

    async def operator_seen(self, user: str) -> None:
        """Marks an operator as online now (the console calls it while a page is open)."""
        await self.redis.zadd(ONLINE, {user: _now()})

    async def operators_online(self) -> int:
        """How many operators had the console open in the last ONLINE_SECONDS."""
        count: int = await self.redis.zcount(ONLINE, _now() - ONLINE_SECONDS, "+inf")
        return count

    async def who_is_online(self) -> set[str]:
        """The operators who had the console open in the last ONLINE_SECONDS."""
        found: list[str] = await self.redis.zrangebyscore(ONLINE, _now() - ONLINE_SECONDS, "+inf")
        return set(found)

    async def audit(self, user: str, action: str, conv: str = "", detail: str = "") -> None:
        """Records who did or saw what, filed under the conversation it is about (one that no
        longer exists is not named); the log is only ever appended to."""
        now = _now()
        fields = {"at": now, "user": user, "action": action, "detail": detail}
        if not conv:
            await self.redis.xadd(AUDIT, {**fields, "conv": ""})
            return
        pairs = [str(part) for item in fields.items() for part in item]
        await self._audit(
            keys=[AUDIT, audit_index_key(conv), conversation_key(conv)],
            args=[now, AUDIT_KEPT_SECONDS, conv, *pairs],
        )

    async def audit_page(
        self, conv: str = "", before: str = "", size: int = 100
    ) -> list[tuple[str, dict[str, str]]]:
        """A page of the audit log, newest first: lines older than the id `before` (from the
        newest when empty), of one conversation or of all."""
        if not conv:
            found: list[tuple[str, dict[str, str]]] = await self.redis.xrevrange(
                AUDIT, max=f"({before}" if before else "+", count=size
            )
            return found
        top = f"({_audit_score(before)}" if before else "+inf"
        ids: list[str] = await self.redis.zrevrangebyscore(
            audit_index_key(conv), top, "-inf", start=0, num=size
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xrange(AUDIT, entry_id, entry_id)
            lines: list[list[tuple[str, dict[str, str]]]] = await pipe.execute()
        return [line[0] for line in lines if line]


# KEYS: the key. ARGV: its type, the list index or hash field, the value read, the value to write.
# Writes only if the value is still the one read (a transcript may have moved on meanwhile).
_RESEAL = """
local now
if ARGV[1] == 'string' then now = redis.call('GET', KEYS[1])
elseif ARGV[1] == 'list' then now = redis.call('LINDEX', KEYS[1], ARGV[2])
else now = redis.call('HGET', KEYS[1], ARGV[2]) end
if now ~= ARGV[3] then return 0 end
if ARGV[1] == 'string' then redis.call('SET', KEYS[1], ARGV[4], 'KEEPTTL')
elseif ARGV[1] == 'list' then redis.call('LSET', KEYS[1], ARGV[2], ARGV[4])
else redis.call('HSET', KEYS[1], ARGV[2], ARGV[4]) end
return 1
"""
# Sealed values at rest, by the key's kind (`hl:<kind>:<conversation>`): where they are.
_SEALED = {"addr": "string", "log": "list", "notes": "list", "conv": "hash"}


async def rotate(
    client: aioredis.Redis,
    sealer: Sealer,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Re-encrypts every sealed value at rest with the newest key (reply addresses, transcripts,
    notes, hand-off summaries, Rasa's trackers); (keys, values) rewritten. Safe while the gateway
    and Rasa run."""
    reseal = client.register_script(_RESEAL)
    keys = values = 0
    async for key in client.scan_iter(match="*", count=500):
        if key.startswith(RASA_TRACKER):
            kind = "string"
        elif key.startswith(f"{PREFIX}:"):
            kind = _SEALED.get(key.split(":")[1], "")
        else:
            continue
        found: list[tuple[str, str]] = []
        if kind == "string":
            found = [("", await client.get(key) or "")]
        elif kind == "list":
            found = [(str(i), v) for i, v in enumerate(await client.lrange(key, 0, -1))]
        elif kind == "hash":
            found = [("handoff", await client.hget(key, "handoff") or "")]
        changed = 0
        for where, old in found:
            if old:
                changed += await reseal(keys=[key], args=[kind, where, old, sealer.reseal(old)])
        if changed:
            keys, values = keys + 1, values + changed
            if progress:
                progress(keys, values)
    return keys, values


def _audit_score(entry_id: str) -> int:
    """An audit line's id as its score in a conversation's index (see _AUDIT)."""
    ms, _, seq = entry_id.partition("-")
    return int(ms) * 1000 + int(seq or 0)


def _now() -> float:
    return round(time.time(), 3)
