"""What DynamoDB can store: the one rule, for every JSON value a client sends.

DynamoDB maps and lists nest at most 32 levels, numbers carry at most 38
significant digits with a magnitude from 1E-130 to under 1E126 (or zero), text is
UTF-8 (a lone surrogate is not), and an item is at most 400 KB. A value outside
that is a client's error (400 naming where), never a 500 when the store refuses it.

Used by the entry layer on every body (`parse_json`, which catches out-of-range
numbers while parsing, before any huge `int()`) and by services that check a
document they will store (`problems`, on values already parsed). Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

MAX_DEPTH = 32
MAX_DIGITS = 38
MIN_MAGNITUDE, MAX_MAGNITUDE = Decimal("1E-130"), Decimal("1E126")
OUT_OF_RANGE = "out of range (1E-130 to 1E126)"
# A stored document (a policy) leaves room under the 400 KB item limit for the
# item's other attributes.
MAX_DOCUMENT_BYTES = 350_000


class BadNumber:
    """A JSON number DynamoDB cannot store, kept in place of its value while
    parsing so that `problems` can name where it was."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def number_problem(value: int | float, literal: str | None = None) -> str | None:
    """Why DynamoDB cannot hold this number exactly, or None."""
    text = literal if literal is not None else repr(value)
    mantissa = text.lstrip("-").split("e")[0].split("E")[0].replace(".", "")
    if len(mantissa.strip("0")) > MAX_DIGITS:
        return f"more than {MAX_DIGITS} significant digits"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    magnitude = abs(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if magnitude and not MIN_MAGNITUDE <= magnitude < MAX_MAGNITUDE:
        return OUT_OF_RANGE
    return None


def _checked(literal: str, value: int | float) -> int | float | BadNumber:
    problem = number_problem(value, literal)
    return value if problem is None else BadNumber(problem)


def _parse_int(literal: str) -> int | float | BadNumber:
    if len(literal.lstrip("-")) > 127:  # at least 1E127 (no leading zeros in JSON)
        return BadNumber(OUT_OF_RANGE)  # and no huge int() below
    return _checked(literal, int(literal))


def _parse_float(literal: str) -> int | float | BadNumber:
    return _checked(literal, float(literal))


def _no_constant(name: str) -> BadNumber:
    return BadNumber(f"{name} is not a JSON number")


def parse_json(raw: bytes | str) -> Any:
    """JSON with every number DynamoDB cannot store replaced by a `BadNumber`
    (raises ValueError, UnicodeDecodeError or RecursionError as `json.loads`)."""
    return json.loads(
        raw, parse_constant=_no_constant, parse_int=_parse_int, parse_float=_parse_float
    )


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def problems(value: Any, limit: int = 20) -> dict[str, str]:
    """What DynamoDB could not store, by dotted path (at most `limit` of them):
    numbers (`BadNumber`s, or parsed ones out of range), strings and keys that are
    not valid UTF-8 (a lone surrogate), empty map keys, containers nested over
    MAX_DEPTH. Iterative: no recursion."""
    found: dict[str, str] = {}
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack and len(found) < limit:
        item, path, depth = stack.pop()
        where = path or "body"
        if isinstance(item, BadNumber):
            found[where] = item.reason
        elif isinstance(item, int | float) and not isinstance(item, bool):
            problem = number_problem(item)
            if problem is not None:
                found[where] = problem
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                found[where] = "not valid UTF-8 (a lone surrogate)"
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                found[where] = f"nested more than {MAX_DEPTH} levels deep"
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for name, child in reversed(list(pairs)):
                shown = _printable(str(name))
                child_path = f"{path}.{shown}" if path else shown
                if isinstance(name, str) and shown != name and len(found) < limit:
                    found[child_path] = "the key is not valid UTF-8 (a lone surrogate)"
                elif name == "" and len(found) < limit:  # DynamoDB keeps no empty map key
                    found[child_path] = "an empty name: every key must have 1 character or more"
                stack.append((child, child_path, depth + 1))
    return found
