"""The write-unit meter bench.burst sizes the table's warm throughput with
(bench/moto_harness.py:WriteMeter): DynamoDB's billing rules on small cases."""

from __future__ import annotations

from typing import Any

from bench.moto_harness import WriteMeter, item_size

TABLE = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "all",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "keys",
            "KeySchema": [{"AttributeName": "due", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ],
}


def item(body_bytes: int, **attrs: str) -> dict[str, Any]:
    return {
        "pk": {"S": "T#1"},
        "sk": {"S": "T"},
        "body": {"S": "x" * body_bytes},
        **{k: {"S": v} for k, v in attrs.items()},
    }


def test_sizes_count_names_and_values() -> None:
    assert item_size({"ab": {"S": "xyz"}}) == 5


def test_a_new_item_costs_its_kilobytes_on_the_table_and_each_index_it_enters() -> None:
    meter = WriteMeter(TABLE)
    meter.put(None, item(1500, g="a", due="1"), transactional=False)
    assert meter.units == {"table": 2, "all": 2, "keys": 1}


def test_a_transaction_costs_twice_and_an_unchanged_keys_only_entry_nothing() -> None:
    meter = WriteMeter(TABLE)
    meter.put(item(10, g="a", due="1"), item(20, g="a", due="1"), transactional=True)
    assert meter.units == {"table": 2, "all": 1}


def test_a_moved_index_key_is_a_removal_and_a_put_and_a_dropped_one_a_removal() -> None:
    meter = WriteMeter(TABLE)
    meter.put(item(10, g="a", due="1"), item(10, g="b"), transactional=False)
    assert meter.units == {"table": 1, "all": 2, "keys": 1}


INCLUDING = {
    "KeySchema": TABLE["KeySchema"],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "include",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status", "big"]},
        },
    ],
}


def test_an_include_entry_is_the_keys_and_the_included_attributes_the_item_has() -> None:
    meter = WriteMeter(INCLUDING)
    meter.put(None, item(3000, g="a", status="open"), transactional=False)
    assert meter.units == {"table": 3, "include": 1}  # the body is not projected
    meter.units.clear()
    meter.put(None, item(10, g="a", big="x" * 1500), transactional=False)
    assert meter.units == {"table": 2, "include": 2}


def test_an_include_entry_costs_a_put_only_when_an_included_attribute_changes() -> None:
    meter = WriteMeter(INCLUDING)
    meter.put(item(10, g="a", status="open"), item(900, g="a", status="open"), transactional=True)
    assert meter.units == {"table": 2}
    meter.put(item(10, g="a", status="open"), item(10, g="a", status="closed"), False)
    assert meter.units == {"table": 3, "include": 1}
    meter.put(item(10, g="a", status="open"), item(10, g="a"), False)  # an attribute gone
    assert meter.units == {"table": 4, "include": 2}
