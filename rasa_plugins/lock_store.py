"""Rasa's Redis lock store, following the primary through a Sentinel failover (rasa_plugins/
sentinel.py). Rasa loads it by module path (endpoints.yml, lock_store: type)."""

from __future__ import annotations

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from hotline.redis_sentinels import sentinels_of
from rasa_plugins.sentinel import primary


class FollowingRedisLockStore(RedisLockStore):
    """RedisLockStore; with `sentinels` set, on the primary the Sentinels name."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Reads endpoints.yml's lock_store section as Rasa's own Redis lock store does."""
        options = dict(endpoint_config.kwargs)
        sentinels = sentinels_of(options.pop("sentinels", ""))
        master_name = str(options.pop("master_name", "") or "")
        if "port" in options:
            options["port"] = int(options["port"])
        if "db" in options:
            options["db"] = int(options["db"])
        super().__init__(host=endpoint_config.url or "localhost", **options)
        if sentinels:
            self.red = primary(
                sentinels,
                master_name,
                options.get("username"),
                options.get("password"),
                db=int(options.get("db", 1)),
            )
