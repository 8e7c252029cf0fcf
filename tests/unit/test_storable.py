"""What DynamoDB can store (`chalicelib.storable`): the one rule the API applies to
every body and the policy service to a document, named by path."""

from __future__ import annotations

from typing import Any

from chalicelib import storable


def test_parsed_values_out_of_dynamodbs_range_are_named_by_path() -> None:
    nested: Any = 1
    for _ in range(31):  # lists at depths 3..33 (the body is 1, "deep" 2)
        nested = [nested]
    doc = {
        "ok": [1, 0.5, 1e125, 1e-130, 10**40, "é", True, None],
        "inf": float("inf"),
        "digits": 123456789012345678901234567890123456789,  # 39
        "big": 1e126,
        "deep": {"a": nested},
        "surrogate": "\udc00",
        "keys": {"": 1},
    }
    assert storable.problems(doc) == {
        "inf": "must be a finite number",
        "digits": "more than 38 significant digits",
        "big": "out of range (1E-130 to 1E126)",
        "deep.a" + ".0" * 30: "nested more than 32 levels deep",
        "surrogate": "not valid UTF-8 (a lone surrogate)",
        "keys.": "an empty name: every key must have 1 character or more",
    }


def test_parsing_keeps_the_place_of_a_number_it_cannot_store() -> None:
    data = storable.parse_json(b'{"a": [1, NaN, 1e400], "b": 1' + b"0" * 200 + b"}")
    assert storable.problems(data) == {
        "a.1": "NaN is not a JSON number",
        "a.2": "must be a finite number",
        "b": "out of range (1E-130 to 1E126)",
    }
    assert storable.problems(storable.parse_json(b'{"a": [1, 2.5, "x"]}')) == {}
