"""Opaque list cursors: the key of the last item a page returned, checked when it
comes back."""

from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.errors import BadRequest

MAX_KEY_BYTES = 300  # far above any key we write, far below DynamoDB's limits


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def key_cursor(item: Any, attributes: set[str]) -> str | None:
    """The cursor that resumes a list after `item`: its `attributes` (every one a
    string key attribute: the table key, plus the index key on an index query),
    exactly as DynamoDB's LastEvaluatedKey would carry them."""
    return encode_cursor({name: {"S": getattr(item, name)} for name in sorted(attributes)})


def index_page(
    index: Any,
    partition: str,
    limit: int,
    start: dict[str, Any] | None,
    page_keys: set[str],
    condition: Any = None,
) -> tuple[list[Any], str | None]:
    """One Query of an index partition for `limit + 1` entries after `start` (a
    decoded cursor): the page, and the cursor after its last entry when the extra
    one says a next page exists (else None)."""
    entries = list(
        index.query(
            partition, condition, limit=limit + 1, page_size=limit + 1, last_evaluated_key=start
        )
    )
    page = entries[:limit]
    return page, key_cursor(page[-1], page_keys) if len(entries) > limit else None


def raw_cursor(raw: dict[str, Any], attributes: set[str]) -> str | None:
    """`key_cursor` for an item as DynamoDB returned it (its attributes typed)."""
    return encode_cursor({name: raw[name] for name in sorted(attributes)})


def invalid_cursor() -> BadRequest:
    return BadRequest("the cursor is not valid for this list", {"cursor": "invalid cursor"})


def open_cursor(cursor: str) -> Any:
    """The JSON inside an opaque cursor (`encode_cursor`'s reverse); 400 if none."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise invalid_cursor() from e


def decode_cursor(
    cursor: str | None,
    expected: dict[str, str],
    attributes: set[str],
    prefixes: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Decode a cursor; it must name exactly `attributes`, every one a non-empty
    string (all our key attributes are strings), carry the `expected` values (the
    partition it was issued for) and, for `prefixes`, values that start with them
    (a sort key inside the range the query reads)."""
    if cursor is None:
        return None
    bad = invalid_cursor()
    key = open_cursor(cursor)
    if not isinstance(key, dict) or set(key) != attributes:
        raise bad
    for name, value in key.items():
        if not isinstance(value, dict) or len(value) != 1:
            raise bad
        ((kind, scalar),) = value.items()
        if kind != "S" or not isinstance(scalar, str) or not scalar:
            raise bad
        try:
            size = len(scalar.encode("utf-8"))
        except UnicodeEncodeError as e:  # a lone surrogate
            raise bad from e
        if size > MAX_KEY_BYTES:
            raise bad
        if name in expected and scalar != expected[name]:
            raise bad
        if prefixes and name in prefixes and not scalar.startswith(prefixes[name]):
            raise bad
    return key
