"""REDIS_SENTINELS as both environments read it: "host:port,host:port" (empty: no Sentinel)."""

from __future__ import annotations


def sentinels_of(listed: object) -> tuple[tuple[str, int], ...]:
    """The Sentinels' (host, port) pairs; ValueError naming an item that is not host:port."""
    found = []
    for item in filter(None, (part.strip() for part in str(listed or "").split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS: {item!r} is not host:port")
        found.append((host, int(port)))
    return tuple(found)
