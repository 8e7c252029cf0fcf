"""Writes chalicelib/domain/holiday_dates.json from the installed `holidays` package:
every country code it knows, and the dates of the countries the shipped policies
name for FIRST_YEAR..LAST_YEAR (chalicelib/domain/holiday_dates.py says why).

    python -m dev.holiday_dates          # rewrite the data (after a `holidays` upgrade)
    python -m dev.holiday_dates --check  # exit 1 when the data is not the package's

A unit test runs the check, so the data cannot drift from the pinned package.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from chalicelib.domain.holiday_dates import DATA

FIRST_YEAR, LAST_YEAR = 2000, 2060


def countries() -> list[str]:
    """The countries the shipped policies' calendars name (by their first code)."""
    from chalicelib.policies import load_shipped

    named = {p.calendar.country for p in load_shipped().values() if p.calendar.country}
    return sorted(named)


def generated() -> dict[str, Any]:
    import holidays
    from holidays.registry import COUNTRIES, EntityLoader
    from holidays.version import __version__ as version

    known = set(EntityLoader.get_country_codes())
    aliases: dict[str, str] = {}
    dates: dict[str, list[str]] = {}
    for named in countries():
        entity = next(codes for _, *codes in COUNTRIES.values() if named in codes)
        codes = [code for code in entity if code in known]
        canonical = codes[0]
        aliases.update((code, canonical) for code in codes)
        dates[canonical] = [
            " ".join(
                f"{day.month:02}{day.day:02}"
                for day in sorted(holidays.country_holidays(canonical, years=year))
            )
            for year in range(FIRST_YEAR, LAST_YEAR + 1)
        ]
    return {
        "holidays_version": version,
        "first_year": FIRST_YEAR,
        "last_year": LAST_YEAR,
        "country_codes": sorted(known),
        "aliases": aliases,
        "dates": dates,
    }


def text() -> str:
    return json.dumps(generated(), indent=1) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date")
    args = parser.parse_args()
    if args.check:
        if DATA.read_text("utf-8") != text():
            print(f"{DATA} is out of date: run python -m dev.holiday_dates", file=sys.stderr)
            sys.exit(1)
        return
    DATA.write_text(text(), "utf-8")


if __name__ == "__main__":
    main()
