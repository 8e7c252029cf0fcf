"""How bench.burst splits the product's profiled CPU by owner (bench/cpu_split.py):
a function's own time is its owner's; the standard library's is its callers'."""

from __future__ import annotations

import threading
from typing import Any

from bench import cpu_split

SITE = "/venv/lib/python3.11/site-packages"
CHECKER = ("/repo/chalicelib/services/checker.py", 1, "evaluate")
SERIALIZE = (f"{SITE}/botocore/serialize.py", 1, "serialize")
SAVE = (f"{SITE}/pynamodb/models.py", 1, "save")
DUMPS = ("/usr/lib/python3.11/json/__init__.py", 1, "dumps")
ENCODE = ("/usr/lib/python3.11/json/encoder.py", 1, "encode")
ROOT = ("/usr/lib/python3.11/threading.py", 1, "run")


class Stats:
    """pstats' table: function -> (calls, calls, own s, cumulative s, callers), each
    caller -> (calls, calls, own s, cumulative s) of the function under it."""

    def __init__(self, table: dict[Any, Any]) -> None:
        self.stats = table


def test_the_standard_library_is_charged_to_its_callers_by_the_time_under_each() -> None:
    stats = Stats(
        {
            ROOT: (1, 1, 0.5, 10.0, {}),
            CHECKER: (1, 1, 1.0, 9.5, {ROOT: (1, 1, 1.0, 9.5)}),
            SERIALIZE: (1, 1, 2.0, 4.0, {CHECKER: (1, 1, 2.0, 4.0)}),
            SAVE: (1, 1, 1.0, 4.0, {CHECKER: (1, 1, 1.0, 4.0)}),
            # dumps: 3 s under botocore, 1 s under PynamoDB; encode only under dumps
            DUMPS: (2, 2, 2.0, 4.0, {SERIALIZE: (1, 1, 1.5, 3.0), SAVE: (1, 1, 0.5, 1.0)}),
            ENCODE: (2, 2, 2.0, 2.0, {DUMPS: (2, 2, 2.0, 2.0)}),
        }
    )
    seconds = cpu_split.split(stats)  # type: ignore[arg-type]
    assert seconds == {"other": 0.5, "slaguard": 1.0, "botocore": 5.0, "PynamoDB": 2.0}
    assert cpu_split.product_shares(seconds) == {
        "botocore": 5.0 / 8.5,
        "PynamoDB": 2.0 / 8.5,
        "slaguard": 1.0 / 8.5,
        "other": 0.5 / 8.5,
    }


def test_a_recursion_of_the_standard_library_goes_to_the_caller_outside_it() -> None:
    copy = ("/usr/lib/python3.11/copy.py", 1, "deepcopy")
    inner = ("/usr/lib/python3.11/copy.py", 2, "_deepcopy_dict")
    stats = Stats(
        {
            SAVE: (1, 1, 1.0, 5.0, {}),
            copy: (3, 1, 2.0, 4.0, {SAVE: (1, 1, 1.0, 4.0), inner: (2, 2, 1.0, 3.0)}),
            inner: (2, 2, 2.0, 3.0, {copy: (2, 2, 2.0, 3.0)}),
        }
    )
    assert cpu_split.split(stats) == {"PynamoDB": 5.0}  # type: ignore[arg-type]


def test_moto_and_the_harness_are_not_the_product() -> None:
    seconds = cpu_split.split(
        Stats(
            {
                (f"{SITE}/moto/dynamodb/models/table.py", 1, "put_item"): (1, 1, 9.0, 9.0, {}),
                ("/repo/bench/moto_harness.py", 1, "put"): (1, 1, 3.0, 3.0, {}),
                CHECKER: (1, 1, 1.0, 1.0, {}),
            }
        )  # type: ignore[arg-type]
    )
    assert cpu_split.product_shares(seconds) == {"slaguard": 1.0}


def test_each_thread_is_profiled_on_its_own_clock_except_in_the_excluded_spans() -> None:
    class Backend:
        def call(self) -> int:
            return sum(range(20_000))

    def product() -> int:
        return sorted(range(1000))[0] + Backend().call()

    profiles = cpu_split.ThreadProfiles()
    with profiles.installed((Backend, "call")):
        thread = threading.Thread(target=product)
        thread.start()
        thread.join()
    names = {name for _, _, name in profiles.stats().stats}  # type: ignore[attr-defined]
    assert "product" in names
    assert "call" not in names  # paused inside the excluded span
    assert Backend.__dict__["call"].__name__ == "call"  # and put back afterwards
