"""Country holidays as data (chalicelib/domain/holiday_dates.py): the `holidays`
package's own dates for the shipped policies' countries, used without importing it,
and only while the installed package is the one they were written from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import holidays
import pytest
from holidays.version import __version__ as version

from chalicelib.domain import calendar, holiday_dates
from chalicelib.policies import load_shipped
from dev import holiday_dates as generator


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """The data and the calendar's caches read anew, before and after the test."""

    def clear() -> None:
        holiday_dates._data.cache_clear()
        calendar._country_holidays.cache_clear()
        calendar._supported_countries.cache_clear()

    clear()
    yield
    clear()


def test_the_data_is_what_the_installed_package_gives() -> None:
    """`python -m dev.holiday_dates --check`: every code, every date of every year."""
    assert holiday_dates.DATA.read_text("utf-8") == generator.text()


def test_the_data_holds_every_country_a_shipped_policy_names() -> None:
    named = {p.calendar.country for p in load_shipped().values() if p.calendar.country}
    assert named  # Aivo's Argentina: the check below can fail
    for country in named:
        assert holiday_dates.country_dates(country, 2026) == frozenset(
            holidays.country_holidays(country, years=2026)
        )


def test_an_alias_gives_the_same_dates() -> None:
    assert holiday_dates.country_dates("ARG", 2026) == holiday_dates.country_dates("AR", 2026)
    assert date(2026, 11, 23) in (holiday_dates.country_dates("AR", 2026) or ())


def test_outside_the_data_the_package_answers(fresh_caches: None) -> None:
    """A country or a year the data does not hold: None here, the package's dates
    in the calendar."""
    assert holiday_dates.country_dates("FR", 2026) is None
    assert holiday_dates.country_dates("AR", generator.LAST_YEAR + 1) is None
    assert calendar._country_holidays("FR", 2026) == frozenset(
        holidays.country_holidays("FR", years=2026)
    )
    year = generator.LAST_YEAR + 1
    assert calendar._country_holidays("AR", year) == frozenset(
        holidays.country_holidays("AR", years=year)
    )


def test_another_installed_version_is_never_answered_from_the_data(
    fresh_caches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert holiday_dates.installed_holidays_is(version)
    assert not holiday_dates.installed_holidays_is("0.1")
    monkeypatch.setattr(holiday_dates, "installed_holidays_is", lambda version: False)

    assert holiday_dates.country_codes() is None
    assert holiday_dates.country_dates("AR", 2026) is None
    assert calendar._country_holidays("AR", 2026) == frozenset(
        holidays.country_holidays("AR", years=2026)
    )
    assert "AR" in calendar._supported_countries()
