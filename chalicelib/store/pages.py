"""Opaque list cursors: the DynamoDB LastEvaluatedKey, checked when it comes back."""

from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.errors import BadRequest


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, expected: dict[str, str], attributes: set[str]
) -> dict[str, Any] | None:
    """Decode a cursor; it must name exactly `attributes` (strings or numbers) and
    carry the `expected` values (the partition it was issued for)."""
    if cursor is None:
        return None
    bad = BadRequest("the cursor is not valid for this list", {"cursor": "invalid cursor"})
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise bad from e
    if not isinstance(key, dict) or set(key) != attributes:
        raise bad
    for name, value in key.items():
        if not isinstance(value, dict) or len(value) != 1:
            raise bad
        ((kind, scalar),) = value.items()
        if kind not in ("S", "N") or not isinstance(scalar, str) or len(scalar) > 300:
            raise bad
        if name in expected and (kind, scalar) != ("S", expected[name]):
            raise bad
    return key
