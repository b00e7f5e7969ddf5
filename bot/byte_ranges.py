"""Byte ranges (RFC 9110) for the sounds, recordings and videos served from memory: browsers ask
for a range to learn a recording's length and to seek in it, and Safari plays no audio or video
from a server that does not answer them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi.responses import Response

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def first_byte(asked: str | None) -> int:
    """Where a Range header starts (0 without one, or for one asking the last bytes)."""
    match = RANGE.match(asked or "")
    return int(match.group(1)) if match and match.group(1) else 0


def ranged(asked: str | None, data: bytes, media_type: str, headers: Mapping[str, str]) -> Response:
    """The whole body, saying ranges are taken (200); the one range asked for (206); 416 for a
    range past the end. Several ranges at once are answered with the whole body."""
    base = {**headers, "Accept-Ranges": "bytes"}
    match = RANGE.match(asked or "")
    size = len(data)
    if match is None or not (match.group(1) or match.group(2)):
        return Response(data, media_type=media_type, headers=base)
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
    else:  # the last N bytes
        start, end = max(0, size - int(match.group(2))), size - 1
    if start > end:
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    shown = {**base, "Content-Range": f"bytes {start}-{end}/{size}"}
    return Response(data[start : end + 1], 206, media_type=media_type, headers=shown)
