"""Business calendars and the 24x7 clock (E2, E3, E4).

Property tests compare `BusinessCalendar` with a brute-force oracle that walks UTC
minute by minute and asks zoneinfo for each minute's local wall time: a minute counts
when its wall time lies in a working interval of a day that is not a holiday, and it
is not the second pass of a repeated (fall-back) wall hour. Wall minutes skipped by a
spring-forward gap are never walked, so they count nothing. That is the documented
DST behaviour of `chalicelib.domain.calendar`, written the slow, obvious way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.calendar import (
    CONTINUOUS,
    DAY_KEYS,
    BusinessCalendar,
    CalendarSpec,
    Clock,
    Continuous,
    business_days,
)

HOUR = 3600
MINUTE = 60
BA = ZoneInfo("America/Argentina/Buenos_Aires")
MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = [("09:00", "18:00")]
ZONES = ("UTC", "America/New_York", "Europe/Madrid", "America/Santiago")


def aivo_calendar() -> BusinessCalendar:
    return BusinessCalendar(
        CalendarSpec(
            timezone="America/Argentina/Buenos_Aires",
            country="AR",
            hours=dict.fromkeys(WEEKDAYS, OFFICE),
        )
    )


def local(
    zone: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)


# ----------------------------------------------------------------------- the oracle


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@cache
def country_dates(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year))


class MinuteOracle:
    """Walks minute by minute; only for minute-aligned starts and durations."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.zone = ZoneInfo(spec.timezone)
        self.country = spec.country
        self.explicit = set(spec.holidays)
        self.working = [bytearray(24 * 60) for _ in DAY_KEYS]
        for weekday, key in enumerate(DAY_KEYS):
            for start, end in spec.hours.get(key, []):
                first = int(start[:2]) * 60 + int(start[3:])
                last = int(end[:2]) * 60 + int(end[3:])
                for minute in range(first, last):
                    self.working[weekday][minute] = 1

    def closed_on(self, day: date) -> bool:
        if day in self.explicit:
            return True
        return self.country is not None and day in country_dates(self.country, day.year)

    def counts(self, minute_start: int) -> bool:
        """Whether the UTC minute starting at `minute_start` (epoch seconds) counts."""
        wall = datetime.fromtimestamp(minute_start, self.zone)
        if wall.fold == 1:  # the second pass of a repeated wall time
            return False
        if not self.working[wall.weekday()][wall.hour * 60 + wall.minute]:
            return False
        return not self.closed_on(wall.date())

    def add(self, start: int, seconds: int, limit_minutes: int = 200_000) -> int:
        assert start % MINUTE == 0
        assert seconds % MINUTE == 0
        done, at = 0, start
        for _ in range(limit_minutes):
            if done == seconds:
                return at
            if self.counts(at):
                done += MINUTE
            at += MINUTE
        raise AssertionError("oracle walked too far")

    def elapsed(self, start: int, end: int) -> int:
        return sum(MINUTE for at in range(start, end, MINUTE) if self.counts(at))


# ------------------------------------------------------------------ hypothesis data


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_hours(draw: st.DrawFn) -> list[tuple[str, str]]:
    count = draw(st.integers(0, 3))
    cuts = sorted(
        draw(st.lists(st.integers(0, 96), min_size=2 * count, max_size=2 * count, unique=True))
    )
    return [(hhmm(cuts[2 * i] * 15), hhmm(cuts[2 * i + 1] * 15)) for i in range(count)]


@st.composite
def weekly_hours(draw: st.DrawFn) -> dict[str, list[tuple[str, str]]]:
    hours = {key: draw(day_hours()) for key in DAY_KEYS}
    if not any(hours.values()):
        hours[draw(st.sampled_from(DAY_KEYS))] = [("10:00", "11:30")]
    return {key: intervals for key, intervals in hours.items() if intervals}


def dst_changes() -> list[int]:
    """Epoch seconds of the offset changes of ZONES in 2024-2026, found by bisection."""
    found = []
    for name in ZONES:
        zone = ZoneInfo(name)

        def offset(seconds: int, zone: ZoneInfo = zone) -> timedelta | None:
            return from_epoch(seconds).astimezone(zone).utcoffset()

        day = epoch(datetime(2024, 1, 1, 12, tzinfo=UTC))
        while day < epoch(datetime(2027, 1, 1, tzinfo=UTC)):
            low, high = day, day + 86_400
            if offset(low) != offset(high):
                while high - low > 1:
                    middle = (low + high) // 2
                    low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
                found.append(high)
            day += 86_400
    return found


DST_CHANGES = dst_changes()
RANGE_START = epoch(datetime(2024, 1, 1, tzinfo=UTC)) // MINUTE
RANGE_END = epoch(datetime(2026, 12, 1, tzinfo=UTC)) // MINUTE


def around_changes(before_minutes: int, after_minutes: int) -> st.SearchStrategy[int]:
    return st.tuples(st.sampled_from(DST_CHANGES), st.integers(-before_minutes, after_minutes)).map(
        lambda pair: pair[0] + pair[1] * MINUTE
    )


minute_starts = st.one_of(
    st.integers(RANGE_START, RANGE_END).map(lambda minute: minute * MINUTE),
    around_changes(14 * 24 * 60, 2 * 24 * 60),
    around_changes(4 * 60, 4 * 60),
)


@st.composite
def calendars(draw: st.DrawFn, near: int | None = None) -> CalendarSpec:
    """A random calendar; explicit holidays fall within three weeks after `near`."""
    extra: list[date] = []
    if near is not None:
        first = from_epoch(near).date()
        extra = draw(
            st.lists(st.integers(-1, 21).map(lambda n: first + timedelta(days=n)), max_size=4)
        )
    return CalendarSpec(
        timezone=draw(st.sampled_from(ZONES)),
        country=draw(st.sampled_from([None, "AR", "ES", "US"])),
        hours=draw(weekly_hours()),
        holidays=extra,
    )


def oracle_duration_cap(calendar: BusinessCalendar) -> int:
    """At most 10 business days, and at most two weeks of working time (walk length)."""
    week = sum(calendar.day_seconds)
    return min(10 * calendar.business_day_seconds, 2 * week) // MINUTE


ORACLE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ property tests


@ORACLE
@given(data=st.data(), start=minute_starts)
def test_e2_e3_e4_add_matches_minute_walk(data: st.DataObject, start: int) -> None:
    """Given a random calendar, add() is the first instant the minute walk reaches s."""
    spec = data.draw(calendars(near=start))
    calendar = BusinessCalendar(spec)
    minutes = data.draw(st.integers(0, oracle_duration_cap(calendar)))

    due = calendar.add(from_epoch(start), minutes * MINUTE)

    assert epoch(due) == MinuteOracle(spec).add(start, minutes * MINUTE)
    assert due.tzinfo is UTC


@ORACLE
@given(data=st.data(), start=minute_starts)
def test_e2_e3_elapsed_matches_minute_walk(data: st.DataObject, start: int) -> None:
    """Given a random calendar, elapsed() counts the same minutes as the minute walk."""
    spec = data.draw(calendars(near=start))
    end = start + data.draw(st.integers(-2 * 24 * 60, 21 * 24 * 60)) * MINUTE

    counted = BusinessCalendar(spec).elapsed(from_epoch(start), from_epoch(end))

    assert counted == MinuteOracle(spec).elapsed(start, end)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), start=minute_starts)
def test_e2_is_open_matches_minute_walk(data: st.DataObject, start: int) -> None:
    spec = data.draw(calendars(near=start))
    oracle = MinuteOracle(spec)
    calendar = BusinessCalendar(spec)
    for minute in range(start, start + 3 * HOUR, 7 * MINUTE):
        assert calendar.is_open(from_epoch(minute)) == oracle.counts(minute)


any_instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), start=any_instants)
def test_e4_round_trip_up_to_500_business_days(data: st.DataObject, start: datetime) -> None:
    """elapsed(a, add(a, s)) == s, and one second earlier the clock was still short."""
    spec = data.draw(calendars())
    calendar = BusinessCalendar(spec)
    seconds = data.draw(st.integers(0, 500 * calendar.business_day_seconds))

    due = calendar.add(start, seconds)

    assert calendar.elapsed(start, due) == seconds
    if seconds:
        assert calendar.elapsed(start, due - timedelta(seconds=1)) == seconds - 1
    else:
        assert due == start.replace(microsecond=0)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), first=any_instants)
def test_e2_elapsed_is_additive(data: st.DataObject, first: datetime) -> None:
    spec = data.draw(calendars())
    second = first + data.draw(st.timedeltas(timedelta(0), timedelta(days=400)))
    third = second + data.draw(st.timedeltas(timedelta(0), timedelta(days=400)))
    calendar = BusinessCalendar(spec)

    total = calendar.elapsed(first, third)

    assert total == calendar.elapsed(first, second) + calendar.elapsed(second, third)
    assert 0 <= total <= int((third - first).total_seconds()) + 1


@settings(max_examples=100, deadline=None)
@given(start=any_instants, seconds=st.integers(0, 10**8))
def test_continuous_round_trip(start: datetime, seconds: int) -> None:
    due = CONTINUOUS.add(start, seconds)

    assert due == start.replace(microsecond=0) + timedelta(seconds=seconds)
    assert CONTINUOUS.elapsed(start, due) == seconds


# ----------------------------------------------------------------- literal cases


def test_e2_aivo_high_first_response_friday_1700_due_monday_1000() -> None:
    """A2/E2: 2 business hours from Friday 17:00 are 1 h on Friday, 1 h on Monday."""
    ar = holidays.country_holidays("AR", years=2026)
    friday, monday = date(2026, 11, 13), date(2026, 11, 16)
    assert friday.weekday() == 4
    assert friday not in ar
    assert monday not in ar

    due = aivo_calendar().add(local(BA, 2026, 11, 13, 17), 2 * HOUR)

    assert due == local(BA, 2026, 11, 16, 10)


def test_e2_argentine_holiday_is_skipped() -> None:
    """E2: Monday 2026-11-23 (National Sovereignty Day, moved) counts nothing."""
    assert date(2026, 11, 23) in holidays.country_holidays("AR", years=2026)
    calendar = aivo_calendar()

    due = calendar.add(local(BA, 2026, 11, 20, 17), 2 * HOUR)

    assert due == local(BA, 2026, 11, 24, 10)
    assert calendar.is_holiday(date(2026, 11, 23))
    assert not calendar.is_holiday(date(2026, 11, 24))
    assert calendar.elapsed(local(BA, 2026, 11, 23, 0), local(BA, 2026, 11, 24, 0)) == 0
    assert not calendar.is_open(local(BA, 2026, 11, 23, 12))


def test_e4_deadline_on_closing_time_is_closing_time() -> None:
    """E4: 9 business hours from Monday 09:00 are due Monday 18:00, not Tuesday 09:00."""
    calendar = aivo_calendar()

    assert calendar.add(local(BA, 2026, 11, 16, 9), 9 * HOUR) == local(BA, 2026, 11, 16, 18)
    assert calendar.add(local(BA, 2026, 11, 16, 10), 8 * HOUR) == local(BA, 2026, 11, 16, 18)
    assert calendar.add(local(BA, 2026, 11, 16, 10), 8 * HOUR + 1) == local(
        BA, 2026, 11, 17, 9, 0, 1
    )


def test_e3_start_on_saturday_accumulates_from_monday_0900() -> None:
    calendar = aivo_calendar()
    saturday = local(BA, 2026, 11, 14, 12, 34, 56)

    assert calendar.elapsed(saturday, local(BA, 2026, 11, 16, 9)) == 0
    assert calendar.add(saturday, HOUR) == local(BA, 2026, 11, 16, 10)
    assert calendar.add(saturday, 1) == local(BA, 2026, 11, 16, 9, 0, 1)


def test_e4_add_zero_is_the_start_even_outside_hours() -> None:
    saturday = local(BA, 2026, 11, 14, 12, 34, 56)

    assert aivo_calendar().add(saturday, 0) == saturday


def test_e2_five_business_days_are_45_business_hours() -> None:
    calendar = aivo_calendar()

    assert calendar.business_day_seconds == 9 * HOUR
    assert business_days(calendar, 5) == 45 * HOUR
    # Monday 09:00 + 45 h: the whole week, due Friday at closing time (E4).
    assert calendar.add(local(BA, 2026, 11, 16, 9), business_days(calendar, 5)) == local(
        BA, 2026, 11, 20, 18
    )
    # Tuesday 10:00: 8+9+9+9 by Friday, Monday 23 is a holiday, 9 on Tuesday, 1 on Wednesday.
    assert calendar.add(local(BA, 2026, 11, 17, 10), business_days(calendar, 5)) == local(
        BA, 2026, 11, 25, 10
    )


def test_e2_business_day_is_the_longest_working_day() -> None:
    hours = {"mon": [("09:00", "13:00"), ("14:00", "18:00")], "sat": [("08:00", "20:00")]}

    calendar = BusinessCalendar(CalendarSpec(hours=hours))

    assert calendar.business_day_seconds == 12 * HOUR
    assert business_days(calendar, 2) == 24 * HOUR


@pytest.mark.parametrize("sunday", [date(2026, 3, 29), date(2026, 10, 25)])
def test_e2_madrid_dst_sunday_is_still_nine_hours(sunday: date) -> None:
    """E2: Mon-Sun 09:00-18:00 in Madrid; the last Sundays of March and October
    (DST changes at night) still have 9 business hours, and 9 h from 09:00 is 18:00."""
    calendar = BusinessCalendar(
        CalendarSpec(timezone="Europe/Madrid", hours=dict.fromkeys(DAY_KEYS, OFFICE))
    )
    y, m, d = sunday.year, sunday.month, sunday.day
    midnight, next_midnight = local(MADRID, y, m, d), local(MADRID, y, m, d) + timedelta(days=1)

    assert calendar.elapsed(midnight, next_midnight) == 9 * HOUR
    due = calendar.add(local(MADRID, y, m, d, 9), 9 * HOUR)
    assert due == local(MADRID, y, m, d, 18)
    assert due - local(MADRID, y, m, d, 9) == timedelta(hours=9)
    # The weekend around the change: 18 business hours although 47 or 49 real hours pass.
    saturday_9 = local(MADRID, y, m, d - 1, 9)
    assert calendar.elapsed(saturday_9, local(MADRID, y, m, d + 1, 9)) == 18 * HOUR


def test_e2_dst_gap_inside_an_interval_counts_only_lived_wall_time() -> None:
    """Madrid, Sunday 00:00-06:00; on 2026-03-29 wall 02:00-03:00 never happens.

    Documented behaviour: the skipped wall hour counts nothing (5 business hours that
    day), the clock does not jump, and 2 h from midnight are due at the change itself
    (01:00 UTC, shown 03:00 CEST)."""
    calendar = BusinessCalendar(
        CalendarSpec(timezone="Europe/Madrid", hours={"sun": [("00:00", "06:00")]})
    )
    midnight = local(MADRID, 2026, 3, 29)

    assert calendar.elapsed(midnight, local(MADRID, 2026, 3, 30)) == 5 * HOUR
    assert calendar.add(midnight, 2 * HOUR) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert calendar.add(midnight, 2 * HOUR) == local(MADRID, 2026, 3, 29, 3)
    assert calendar.add(midnight, 3 * HOUR) == local(MADRID, 2026, 3, 29, 4)
    assert calendar.elapsed(midnight, local(MADRID, 2026, 3, 29, 3)) == 2 * HOUR
    assert calendar.is_open(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))
    # The next Sunday, without a change, has 6 hours.
    assert calendar.elapsed(local(MADRID, 2026, 4, 5), local(MADRID, 2026, 4, 6)) == 6 * HOUR


def test_e2_dst_overlap_inside_an_interval_counts_the_repeated_wall_hour_once() -> None:
    """Madrid, Sunday 00:00-06:00; on 2026-10-25 wall 02:00-03:00 is lived twice.

    Documented behaviour: the repeated hour counts once (6 business hours in 7 real
    hours); during its second pass the clock stands still."""
    calendar = BusinessCalendar(
        CalendarSpec(timezone="Europe/Madrid", hours={"sun": [("00:00", "06:00")]})
    )
    midnight = local(MADRID, 2026, 10, 25)  # 22:00 UTC on Saturday (CEST)
    change = datetime(2026, 10, 25, 1, tzinfo=UTC)  # 03:00 CEST becomes 02:00 CET

    assert calendar.elapsed(midnight, local(MADRID, 2026, 10, 26)) == 6 * HOUR
    assert calendar.elapsed(change, change + timedelta(hours=1)) == 0
    assert not calendar.is_open(change + timedelta(minutes=30))
    assert calendar.is_open(change - timedelta(minutes=30))
    assert calendar.add(midnight, 3 * HOUR) == change
    assert calendar.add(midnight, 3 * HOUR + 1) == change + timedelta(hours=1, seconds=1)
    assert calendar.add(midnight, 6 * HOUR) == datetime(2026, 10, 25, 5, tzinfo=UTC)


def test_e2_santiago_midnight_gap_skips_the_missing_hour() -> None:
    """America/Santiago springs forward at 24:00 Saturday: Sunday starts at 01:00."""
    calendar = BusinessCalendar(
        CalendarSpec(timezone="America/Santiago", hours={"sun": [("00:00", "02:00")]})
    )
    santiago = ZoneInfo("America/Santiago")
    sunday = date(2026, 9, 6)
    assert local(santiago, 2026, 9, 6, 12).utcoffset() != local(santiago, 2026, 9, 5).utcoffset()

    day = local(santiago, 2026, 9, 5, 12)
    assert calendar.elapsed(day, day + timedelta(days=2)) == HOUR
    assert calendar.add(day, HOUR).astimezone(santiago).replace(tzinfo=None) == datetime(
        sunday.year, sunday.month, sunday.day, 2
    )


def test_e2_explicit_holidays_and_country_holidays_both_close() -> None:
    spec = CalendarSpec(
        timezone="Europe/Madrid",
        country="ES",
        hours=dict.fromkeys(WEEKDAYS, OFFICE),
        holidays=["2026-06-03"],
    )
    calendar = BusinessCalendar(spec)

    assert calendar.is_holiday(date(2026, 6, 3))
    assert calendar.is_holiday(date(2026, 1, 6))  # Epiphany, from the holidays package
    assert not calendar.is_holiday(date(2026, 6, 4))
    # Tuesday 17:00 + 2 h: Wednesday 3 June is closed, so Thursday 10:00.
    assert calendar.add(local(MADRID, 2026, 6, 2, 17), 2 * HOUR) == local(MADRID, 2026, 6, 4, 10)


def test_e2_long_durations_cross_years_and_their_holidays() -> None:
    """500 business days from a Monday in 2026, checked against the minute walk."""
    calendar = aivo_calendar()
    start = local(BA, 2026, 1, 5, 9)

    due = calendar.add(start, business_days(calendar, 500))

    oracle = MinuteOracle(calendar.spec)
    assert epoch(due) == oracle.add(epoch(start), business_days(calendar, 500), 2_000_000)


def test_inputs_are_truncated_to_whole_seconds() -> None:
    calendar = aivo_calendar()
    start = local(BA, 2026, 11, 16, 10, 0, 0, 999_999)

    assert calendar.add(start, HOUR) == local(BA, 2026, 11, 16, 11)
    assert calendar.elapsed(start, local(BA, 2026, 11, 16, 10, 0, 1, 1)) == 1
    assert CONTINUOUS.add(start, 0) == local(BA, 2026, 11, 16, 10)


def test_results_are_utc_and_naive_inputs_mean_utc() -> None:
    calendar = aivo_calendar()

    due = calendar.add(datetime(2026, 11, 16, 12), HOUR)  # 09:00 in Buenos Aires

    assert due.tzinfo is UTC
    assert due == datetime(2026, 11, 16, 13, tzinfo=UTC)


@pytest.mark.parametrize("clock", [CONTINUOUS, aivo_calendar()])
def test_negative_durations_are_refused(clock: Clock) -> None:
    with pytest.raises(ValueError, match="negative"):
        clock.add(datetime(2026, 1, 1, tzinfo=UTC), -1)


def test_continuous_clock_counts_every_second() -> None:
    start = local(BA, 2026, 11, 14, 23, 30)  # a Saturday night

    assert CONTINUOUS.add(start, 2 * HOUR) == datetime(2026, 11, 15, 4, 30, tzinfo=UTC)
    assert CONTINUOUS.elapsed(start, start + timedelta(days=3)) == 3 * 86_400
    assert CONTINUOUS.elapsed(start + timedelta(seconds=5), start) == 0
    assert business_days(CONTINUOUS, 2) == 2 * 86_400
    assert isinstance(CONTINUOUS, Continuous)
    assert isinstance(aivo_calendar(), Clock)


def test_from_spec_accepts_the_json_shape() -> None:
    calendar = BusinessCalendar.from_spec(
        {"timezone": "America/New_York", "hours": {"fri": [["13:00", "24:00"]]}}
    )

    assert calendar.business_day_seconds == 11 * HOUR
    assert calendar.spec.hours == {"fri": [("13:00", "24:00")]}


# ------------------------------------------------------------------ spec validation


def error_locations(payload: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as caught:
        CalendarSpec.model_validate(payload)
    return [error["loc"] for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"timezone": "Mars/Olympus", "hours": {"mon": OFFICE}}, ("timezone",)),
        ({"timezone": "../etc/passwd", "hours": {"mon": OFFICE}}, ("timezone",)),
        ({"country": "XX", "hours": {"mon": OFFICE}}, ("country",)),
        ({"hours": {"mon": [("9:00", "18:00")]}}, ("hours", "mon", 0, 0)),
        ({"hours": {"mon": [("09:00", "24:30")]}}, ("hours", "mon", 0, 1)),
        ({"hours": {"mon": OFFICE, "tue": [("18:00", "09:00")]}}, ("hours", "tue", 0)),
        ({"hours": {"mon": [("24:00", "24:00")]}}, ("hours", "mon", 0)),
        ({"hours": {"mon": [("09:00", "13:00"), ("12:00", "18:00")]}}, ("hours", "mon")),
        ({"hours": {"monday": OFFICE}}, ("hours", "monday", "[key]")),
        ({"hours": {}}, ("hours",)),
        ({"hours": {"mon": []}}, ("hours",)),
        ({}, ("hours",)),
        ({"hours": {"mon": OFFICE}, "holidays": ["not a date"]}, ("holidays", 0)),
        ({"hours": {"mon": OFFICE}, "tz": "UTC"}, ("tz",)),
    ],
)
def test_invalid_specs_name_the_field(
    payload: dict[str, Any], location: tuple[int | str, ...]
) -> None:
    assert location in error_locations(payload)


def test_valid_spec_is_sorted_and_keeps_24_00() -> None:
    spec = CalendarSpec.model_validate(
        {
            "timezone": "America/Santiago",
            "country": "AR",
            "hours": {"mon": [["14:00", "24:00"], ["09:00", "14:00"]]},
            "holidays": ["2026-12-24"],
        }
    )

    assert spec.hours == {"mon": [("09:00", "14:00"), ("14:00", "24:00")]}
    assert spec.holidays == [date(2026, 12, 24)]
    assert BusinessCalendar(spec).business_day_seconds == 15 * HOUR


def test_a_calendar_knows_every_country_holidays_lists_and_only_those() -> None:
    """The country codes read from holidays' registry (no country module loaded) are
    the ones `holidays.list_supported_countries()` gives, aliases included."""
    from chalicelib.domain.calendar import _supported_countries

    assert _supported_countries() == frozenset(holidays.list_supported_countries())
    assert {"AR", "ARG", "UK", "GB"} <= _supported_countries()
    with pytest.raises(ValidationError, match="no holidays known for country 'XX'"):
        CalendarSpec(country="XX", hours={"mon": [("09:00", "18:00")]})


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from([*ZONES, "America/Argentina/Buenos_Aires", "Australia/Lord_Howe"]),
    at=st.integers(min_value=2 * 365 * 86_400, max_value=9998 * 365 * 86_400),
)
def test_a_zones_offset_is_the_instants_in_that_zone(zone: str, at: int) -> None:
    """The transitions' probe (`_offset_at`) reads the offset the instant has in
    the zone, as `astimezone` gives it, in every year a calendar serves."""
    from chalicelib.domain.calendar import _offset_at, _to_datetime

    expected = _to_datetime(at).astimezone(ZoneInfo(zone)).utcoffset()
    assert expected is not None
    assert _offset_at(ZoneInfo(zone), at) == expected // timedelta(seconds=1)
