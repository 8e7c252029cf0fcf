"""Country holidays as data: the `holidays` package's own dates, written out by
`python -m dev.holiday_dates` for the countries the shipped policies name.

Importing `holidays` for one country costs a cold start about 60 ms of CPU: its
package imports every calendar it knows, and `holidays.countries` imports the module
of every country (some 250) before the one asked for. A first request under a
policy with a country calendar paid for that. `holiday_dates.json` holds, for the
version of `holidays` it was made from, every country code the package knows and,
for the shipped policies' countries, the dates `holidays.country_holidays(code,
years=year)` gives for each year of a range (default categories, as the calendar
asks for them).

The data answers only while the installed `holidays` is that very version (its
`holidays-<version>.dist-info`, found without importing it); any other version, a
country or a year the data does not hold, and the calendar asks the package (None
here). So the dates are the package's in every case: the data only spares the
import. `tests/unit/test_holiday_dates.py` checks the data against the package.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("holiday_dates.json")


@cache
def _data() -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(DATA.read_text("utf-8"))
    except FileNotFoundError:  # not written yet (dev.holiday_dates writes it)
        return None
    return data if installed_holidays_is(data["holidays_version"]) else None


def installed_holidays_is(version: str) -> bool:
    """Whether the `holidays` that `import holidays` would load is `version`: pip
    installs it beside its `holidays-<version>.dist-info` (which the package itself
    reads its version from)."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return False
    return (Path(spec.origin).parent.parent / f"holidays-{version}.dist-info").is_dir()


def country_codes() -> frozenset[str] | None:
    """Every country code the package knows, aliases included (None: ask it)."""
    data = _data()
    return None if data is None else frozenset(data["country_codes"])


def country_dates(country: str, year: int) -> frozenset[date] | None:
    """The package's holidays of `country` (a code it knows) in `year` (None: ask it)."""
    data = _data()
    if data is None or not data["first_year"] <= year <= data["last_year"]:
        return None
    canonical = data["aliases"].get(country)
    if canonical is None:
        return None
    days: str = data["dates"][canonical][year - data["first_year"]]
    return frozenset(date(year, int(day[:2]), int(day[2:])) for day in days.split())
