"""Key prefixes of the one Redis that the gateway and Rasa share, named in both environments.

Rasa's keys start with `rasa` (endpoints.yml's `key_prefix` for the tracker and the lock store),
the gateway's with `hl`; each process's Redis user may touch only its own (bot/redis_server.py).
Every Rasa key ends with the conversation's id, so "forget me" finds them.
"""

GATEWAY = "hl"
RASA = "rasa"
# rasa_plugins/tracker_store.py (Rasa's RedisTrackerStore adds "tracker:" to the key prefix).
RASA_TRACKER = f"{RASA}:tracker:"
# rasa_plugins/router_channel.py: the replies to each message, kept for a retried request.
RASA_REPLIES = f"{RASA}:replies:"
# Rasa's RedisLockStore adds "lock:" to the key prefix.
RASA_LOCK = f"{RASA}:lock:"
