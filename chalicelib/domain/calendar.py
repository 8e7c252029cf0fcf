"""Clocks that SLA targets run on: the 24x7 clock and business calendars (E2, E3, E4).

A clock answers two questions about UTC instants: `add` (the first instant at which a
clock started at `start` has accumulated `seconds`) and `elapsed` (clock seconds in
`[start, end)`). Both work in whole seconds: inputs are truncated to the second, and
`elapsed(a, add(a, s)) == s` for every `a` and `s >= 0`.

A business calendar counts working time in the LOCAL WALL TIME of its timezone (E2):
weekly intervals per weekday, minus holidays (explicit dates and the `holidays`
package's default categories for a country). DST is handled as wall time is lived:

* a wall time skipped by a spring-forward gap never happens, so it counts nothing;
* a wall time repeated by a fall-back overlap counts once, the first time it is
  lived; while the repeated wall time is lived again, the clock stands still.

So a 09:00-18:00 day is 9 hours on a DST day too; an interval that contains the
change counts its wall length minus the skipped wall time (spring) or its wall length
(autumn, although an hour more passes). The clock never jumps, which is what makes
`elapsed(a, add(a, s)) == s` hold everywhere. A duration that runs out exactly where
the wall clock changes is due at the change itself (Madrid, Sunday 00:00-06:00 on
2026-03-29: 2 h from midnight are due at 01:00 UTC, shown 03:00 CEST; on 2026-10-25,
3 h from midnight are due at 01:00 UTC, when 03:00 CEST becomes 02:00 CET, and the
clock then waits until 03:00 CET). Wall time to UTC otherwise is fold=0.

Instants: naive datetimes are read as UTC (as `instants.to_utc` does); results are
aware UTC datetimes in whole seconds. Business calendars serve years 3 to 9997.

Cost does not grow with the span walked: working time is precomputed per week, whole
weeks are skipped arithmetically, and holidays and DST gaps are corrected with sorted
tables and `bisect`. Holiday years and the zone's transitions are loaded lazily for
the years touched and cached per (country, year) and (zone, year).

The module is pure: no I/O of its own (zoneinfo, `holidays` and `holiday_dates`, the
package's dates written out for the shipped policies' countries, bring their data)
and it never reads the clock.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain import holiday_dates

DAY = 86_400
WEEK = 7 * DAY
DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Internal time is integer seconds since 0001-01-01T00:00, UTC for instants and local
# wall time for wall positions. 0001-01-01 is a Monday, so `w // WEEK` are real weeks.
_UNIX_EPOCH = (date(1970, 1, 1).toordinal() - 1) * 86_400
_ONE_SECOND = timedelta(seconds=1)
# Spacing of the offset probes that find a zone's transitions (real ones are months apart).
_PROBE_STEP = 6 * 3600
# Tables load a year around the years touched; keep them inside what datetime can hold.
_FIRST_YEAR, _LAST_YEAR = MINYEAR + 1, MAXYEAR - 1


# --------------------------------------------------------------------------- clocks


@runtime_checkable
class Clock(Protocol):
    """What an SLA target runs on."""

    def add(self, start: datetime, seconds: int) -> datetime:
        """The first instant (UTC) at which `seconds` clock seconds have accumulated."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Clock seconds in `[start, end)`; 0 when `end <= start`."""
        ...


def _to_seconds(at: datetime) -> int:
    """Seconds since 0001-01-01 UTC, truncated to the whole second (naive means UTC)."""
    if at.tzinfo is None or at.utcoffset() is None:
        at = at.replace(tzinfo=UTC)
    if at.microsecond:
        at = at.replace(microsecond=0)
    return int(at.timestamp()) + _UNIX_EPOCH


def _to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds - _UNIX_EPOCH, UTC)


def _check_duration(seconds: int) -> None:
    if seconds < 0:
        raise ValueError(f"a clock cannot add a negative duration ({seconds} s)")


class Continuous:
    """The 24x7 clock: every second counts."""

    def add(self, start: datetime, seconds: int) -> datetime:
        """`start` (truncated to the second) plus `seconds`, in UTC."""
        _check_duration(seconds)
        return _to_datetime(_to_seconds(start) + seconds)

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Whole seconds from `start` to `end` (both truncated), never negative."""
        return max(0, _to_seconds(end) - _to_seconds(start))

    def __repr__(self) -> str:
        return "Continuous()"


CONTINUOUS = Continuous()


# ----------------------------------------------------------------------------- spec

_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")


def _minute_of_day(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _check_day_key(key: str) -> str:
    if key not in DAY_KEYS:
        raise ValueError(f"day must be one of {', '.join(DAY_KEYS)}")
    return key


def _check_time(text: str) -> str:
    if not _HHMM.fullmatch(text):
        raise ValueError('time must be "HH:MM" between 00:00 and 24:00')
    return text


def _check_interval(interval: tuple[str, str]) -> tuple[str, str]:
    start, end = interval
    if _minute_of_day(start) >= _minute_of_day(end):
        raise ValueError(f"interval start {start} must be before its end {end}")
    return interval


def _check_day_intervals(intervals: list[tuple[str, str]]) -> list[tuple[str, str]]:
    ordered = sorted(intervals, key=lambda iv: _minute_of_day(iv[0]))
    for before, after in pairwise(ordered):
        if _minute_of_day(after[0]) < _minute_of_day(before[1]):
            raise ValueError(f"intervals {before[0]}-{before[1]} and {after[0]}-{after[1]} overlap")
    return ordered


DayKey = Annotated[str, AfterValidator(_check_day_key)]
WallTime = Annotated[str, AfterValidator(_check_time)]
Interval = Annotated[tuple[WallTime, WallTime], AfterValidator(_check_interval)]
DayIntervals = Annotated[list[Interval], AfterValidator(_check_day_intervals)]


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    """The country codes `holidays` knows (aliases included): from `holiday_dates`'
    data, else from its registry (`holidays.list_supported_countries()` gives the
    same codes but imports every country's module to list its subdivisions)."""
    known = holiday_dates.country_codes()
    if known is not None:
        return known
    from holidays.registry import EntityLoader  # on first use: cold starts without one

    return frozenset(EntityLoader.get_country_codes())


class CalendarSpec(BaseModel):
    """A business calendar as tenants and policies write it (E2).

    `hours` maps `mon`..`sun` to working intervals `("HH:MM", "HH:MM")` in local wall
    time (`"24:00"` allowed as an end); a missing day is closed. `country` adds that
    country's holidays (default categories of the `holidays` package); `holidays` adds
    explicit closed dates.
    """

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    country: str | None = None
    hours: dict[DayKey, DayIntervals]
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in _supported_countries():
            raise ValueError(f"no holidays known for country {value!r}")
        return value

    @field_validator("hours")
    @classmethod
    def _some_working_time(
        cls, value: dict[str, list[tuple[str, str]]]
    ) -> dict[str, list[tuple[str, str]]]:
        if not any(value.values()):
            raise ValueError("a calendar needs at least one working interval")
        return value


# -------------------------------------------------------------- cached external data


@lru_cache(maxsize=4096)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    known = holiday_dates.country_dates(country, year)
    if known is not None:  # the package's own dates, without its import (~60 ms)
        return known
    import holidays  # on first use (see _supported_countries)

    return frozenset(holidays.country_holidays(country, years=year).keys())


def _offset_at(zone: ZoneInfo, seconds: int) -> int:
    # the instant straight into the zone (`_to_datetime(...).astimezone(zone)` in one
    # step: a year's transitions probe it 1,460 times, ~30% less CPU)
    offset = datetime.fromtimestamp(seconds - _UNIX_EPOCH, zone).utcoffset()
    assert offset is not None
    return offset // _ONE_SECOND


def _year_start(year: int) -> int:
    return (date(year, 1, 1).toordinal() - 1) * DAY


def _year_of(seconds: int) -> int:
    ordinal = min(max(seconds // DAY + 1, 1), date.max.toordinal())
    return date.fromordinal(ordinal).year


@lru_cache(maxsize=4096)
def _zone_transitions(key: str, year: int) -> tuple[tuple[int, int, int], ...]:
    """(instant, offset before, offset after) of each offset change in UTC year `year`."""
    zone = ZoneInfo(key)
    end = _year_start(year + 1)
    found: list[tuple[int, int, int]] = []
    probe = _year_start(year)
    offset = _offset_at(zone, probe)
    while probe < end:
        step_end = min(probe + _PROBE_STEP, end)
        step_offset = _offset_at(zone, step_end)
        if step_offset != offset:
            low, high = probe, step_end  # offset(low) == offset != offset(high)
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_at(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            found.append((high, offset, _offset_at(zone, high)))
        probe, offset = step_end, step_offset
    return tuple(found)


# ------------------------------------------------------------------ business calendar


class _Tables:
    """Everything precomputed for the loaded years [first, last] of one calendar.

    Removed ranges are the wall-time ranges that count nothing although the weekly
    template says they are working time: holidays and DST gaps (merged, sorted,
    disjoint). `_dropped[k]` is the template time removed by ranges before k and
    `_count_at_start[k]` is the clock count at the start of range k.
    """

    __slots__ = (
        "_count_at_start",
        "_dropped",
        "_ends",
        "_starts",
        "first",
        "gap_after",
        "last",
        "offsets",
        "pivot_walls",
        "transition_instants",
        "transitions",
        "valid_high",
        "valid_low",
    )

    def __init__(self, calendar: BusinessCalendar, first: int, last: int) -> None:
        self.first, self.last = first, last
        # Queries must stay a year inside the loaded years, so that every holiday and
        # transition whose wall range can touch them is loaded.
        self.valid_low = _year_start(first + 1)
        self.valid_high = _year_start(last)

        key = calendar.spec.timezone
        transitions: list[tuple[int, int, int]] = []
        for year in range(first, last + 1):
            transitions.extend(_zone_transitions(key, year))
        self.transitions = transitions
        self.transition_instants = [at for at, _, _ in transitions]
        first_offset = (
            transitions[0][1] if transitions else _offset_at(calendar.zone, _year_start(first))
        )
        # offsets[i]: the offset between transition i-1 and transition i.
        self.offsets = [first_offset] + [after for _, _, after in transitions]
        # The wall time reached just before each transition: walls up to it map before it.
        self.pivot_walls = [at + before for at, before, _ in transitions]
        self.gap_after = [at + after for at, _, after in transitions]

        raw: list[tuple[int, int]] = []
        day_seconds = calendar.day_seconds
        dates = set(calendar.spec.holidays)
        if calendar.spec.country is not None:
            for year in range(first, last + 1):
                dates |= _country_holidays(calendar.spec.country, year)
        for day in dates:
            if day_seconds[day.weekday()]:
                begin = (day.toordinal() - 1) * DAY
                raw.append((begin, begin + DAY))
        for at, before, after in transitions:
            if after > before:  # spring forward: wall [at+before, at+after) never happens
                raw.append((at + before, at + after))
        raw.sort()

        merged: list[list[int]] = []
        for begin, end in raw:
            if merged and begin <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([begin, end])

        template = calendar._template_count
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._dropped: list[int] = []
        self._count_at_start: list[int] = []
        dropped = 0
        for begin, end in merged:
            removed = template(end) - template(begin)
            if not removed:
                continue
            self._starts.append(begin)
            self._ends.append(end)
            self._dropped.append(dropped)
            self._count_at_start.append(template(begin) - dropped)
            dropped += removed
        self._dropped.append(dropped)

    def wall(self, instant: int) -> int:
        """The wall position of an instant; during a repeated wall hour, its end."""
        index = bisect_right(self.transition_instants, instant)
        if index:
            at, before, after = self.transitions[index - 1]
            if after < before and instant < at + before - after:
                return at + before  # the clock stands still while wall time repeats
        return instant + self.offsets[index]

    def instant(self, wall: int) -> int:
        """The first instant whose wall position reaches `wall`."""
        index = bisect_left(self.pivot_walls, wall)
        if index and wall < self.gap_after[index - 1]:
            return self.transitions[index - 1][0]  # strictly inside a gap (never a due wall)
        return wall - self.offsets[index]

    def count(self, wall: int, template: int) -> int:
        """Clock count at wall position `wall`, given the template count there."""
        index = bisect_right(self._ends, wall)
        if index < len(self._starts) and self._starts[index] < wall:
            return self._count_at_start[index]
        return template - self._dropped[index]

    def first_range_after(self, wall: int) -> int:
        return bisect_right(self._ends, wall)

    def removed_before_reaching(self, target: int, lo: int) -> int:
        """Template time removed before the first range (from index `lo`) whose start's
        count reaches `target`: the first wall reaching `target` lies before that range,
        where count = template - this."""
        return self._dropped[bisect_left(self._count_at_start, target, lo=lo)]


class BusinessCalendar:
    """A business clock (E2, E3, E4) built from a `CalendarSpec`.

    Working time counts only inside the weekly intervals, in local wall time, on days
    that are not holidays. A start outside working hours accumulates from the next
    opening (E3). `add` returns the first instant at which the duration is reached, so
    a deadline that ends at closing time is the closing time (E4). See the module
    docstring for DST gaps and overlaps.
    """

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self._explicit_holidays = frozenset(spec.holidays)

        spans: list[tuple[int, int]] = []
        day_seconds = [0] * 7
        for weekday, key in enumerate(DAY_KEYS):
            for start, end in spec.hours.get(key, []):
                begin = weekday * DAY + _minute_of_day(start) * 60
                finish = weekday * DAY + _minute_of_day(end) * 60
                day_seconds[weekday] += finish - begin
                if spans and spans[-1][1] == begin:
                    spans[-1] = (spans[-1][0], finish)
                else:
                    spans.append((begin, finish))
        self.day_seconds: tuple[int, ...] = tuple(day_seconds)
        self._week_seconds = sum(day_seconds)
        if not self._week_seconds:
            raise ValueError("a calendar needs at least one working interval")
        self._span_starts = [begin for begin, _ in spans]
        self._span_lengths = [end - begin for begin, end in spans]
        cumulative = 0
        self._span_before: list[int] = []
        self._span_through: list[int] = []
        for length in self._span_lengths:
            self._span_before.append(cumulative)
            cumulative += length
            self._span_through.append(cumulative)
        self._tables: _Tables | None = None

    @classmethod
    def from_spec(cls, spec: CalendarSpec | Mapping[str, Any]) -> BusinessCalendar:
        """Build from a spec or its JSON shape (raises pydantic's ValidationError)."""
        if not isinstance(spec, CalendarSpec):
            spec = CalendarSpec.model_validate(spec)
        return cls(spec)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec!r})"

    # -- public API

    @property
    def business_day_seconds(self) -> int:
        """Length of the calendar's longest working day: one business day (E2)."""
        return max(self.day_seconds)

    def is_holiday(self, day: date) -> bool:
        """Whether `day` is an explicit or country holiday of this calendar."""
        if day in self._explicit_holidays:
            return True
        country = self.spec.country
        return country is not None and day in _country_holidays(country, day.year)

    def add(self, start: datetime, seconds: int) -> datetime:
        """The first instant (UTC) at which a clock started at `start` has accumulated
        `seconds` of working time (E3, E4). `add(x, 0)` is `x`."""
        _check_duration(seconds)
        instant = _to_seconds(start)
        if seconds == 0:
            return _to_datetime(instant)
        tables = self._tables_for(instant, instant)
        while True:
            wall = tables.wall(instant)
            target = tables.count(wall, self._template_count(wall)) + seconds
            dropped = tables.removed_before_reaching(target, tables.first_range_after(wall))
            due_wall = self._template_first_reaching(target + dropped)
            if tables.valid_low <= due_wall < tables.valid_high:
                return _to_datetime(tables.instant(due_wall))
            tables = self._tables_for(instant, due_wall)

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Working seconds in `[start, end)`; 0 when `end <= start` (E2, E3)."""
        first, last = _to_seconds(start), _to_seconds(end)
        if last <= first:
            return 0
        tables = self._tables_for(first, last)
        wall_first, wall_last = tables.wall(first), tables.wall(last)
        return tables.count(wall_last, self._template_count(wall_last)) - tables.count(
            wall_first, self._template_count(wall_first)
        )

    def is_open(self, at: datetime) -> bool:
        """Whether the clock is counting at `at`: the second starting there counts.

        False on holidays, outside the intervals, and while a repeated (fall-back)
        wall hour is lived for the second time."""
        return self.elapsed(at, _to_datetime(_to_seconds(at) + 1)) == 1

    # -- the weekly template

    def _template_count(self, wall: int) -> int:
        """Working seconds of the weekly template before `wall` (no holidays, no DST)."""
        weeks, into = divmod(wall, WEEK)
        index = bisect_right(self._span_starts, into) - 1
        done = 0
        if index >= 0:
            done = self._span_before[index] + min(
                into - self._span_starts[index], self._span_lengths[index]
            )
        return weeks * self._week_seconds + done

    def _template_first_reaching(self, count: int) -> int:
        """The first wall position whose template count reaches `count`."""
        weeks, rest = divmod(count, self._week_seconds)
        if rest == 0:
            weeks, rest = weeks - 1, self._week_seconds
        index = bisect_left(self._span_through, rest)
        return weeks * WEEK + self._span_starts[index] + (rest - self._span_before[index])

    def _tables_for(self, one: int, other: int) -> _Tables:
        """Tables that cover the seconds `one` and `other` (instants or walls)."""
        low, high = min(one, other), max(one, other)
        tables = self._tables
        if tables is not None and tables.valid_low <= low and high < tables.valid_high:
            return tables
        first = max(_FIRST_YEAR, _year_of(low) - 1)
        last = min(_LAST_YEAR, _year_of(high) + 1)
        if tables is not None:
            first, last = min(first, tables.first), max(last, tables.last)
        tables = self._tables = _Tables(self, first, last)
        if not tables.valid_low <= low <= high < tables.valid_high:
            raise ValueError(
                f"business calendars work between years {_FIRST_YEAR + 1} and {_LAST_YEAR - 1}"
            )
        return tables


@dataclass(frozen=True)
class Stretch:
    """A stretch of real time a clock walked over, and why it counted or did not:
    `business hours`, `outside hours`, `weekend` (a day without working hours),
    `holiday` (with its local `day`), or `24x7`. `counted` is the clock seconds in
    it (`Clock.elapsed`), so the stretches of `[a, b)` add up to `elapsed(a, b)`."""

    start: datetime
    end: datetime
    counted: int
    why: str
    day: date | None = None


def walk(clock: Clock, start: datetime, end: datetime) -> list[Stretch]:
    """The stretches `[start, end)` is made of on `clock`, in order and without
    gaps (E2, E3): one `24x7` stretch on a continuous clock; on a business calendar,
    per local day, its working intervals and the time outside them, a whole day for
    a weekend or a holiday, adjacent stretches of one kind merged (Friday 18:00 to
    Saturday 00:00 `outside hours`, then the `weekend`, then Monday 00:00 to 09:00
    `outside hours`). Boundaries are local wall time (E2): a DST change moves them
    in UTC, never the counted seconds, which are the clock's own."""
    first, last = _to_seconds(start), _to_seconds(end)
    if last <= first:
        return []
    if not isinstance(clock, BusinessCalendar):
        return [Stretch(_to_datetime(first), _to_datetime(last), last - first, "24x7")]
    zone = clock.zone
    cuts: list[tuple[int, str, date | None]] = []  # (start instant, why, holiday day)
    day = _to_datetime(first).astimezone(zone).date()
    while True:
        midnight = _wall_instant(zone, day, 0)
        if midnight >= last:
            break
        hours = clock.spec.hours.get(DAY_KEYS[day.weekday()], [])
        if not hours:
            cuts.append((midnight, "weekend", None))
        elif clock.is_holiday(day):
            cuts.append((midnight, "holiday", day))
        else:
            cuts.append((midnight, "outside hours", None))
            for opening, closing in hours:
                opens = _wall_instant(zone, day, _minute_of_day(opening))
                cuts.append((opens, "business hours", None))
                closes = _wall_instant(zone, day, _minute_of_day(closing))
                cuts.append((closes, "outside hours", None))
        day += timedelta(days=1)
    stretches: list[Stretch] = []
    bounds = [max(first, min(at, last)) for at, _, _ in cuts[1:]] + [last]
    at = first
    for (_, why, holiday), until in zip(cuts, bounds, strict=True):
        until = max(until, at)  # a wall time in a DST gap never moves the walk back
        if until <= at:
            continue
        if stretches and stretches[-1].why == why and stretches[-1].day == holiday:
            head = stretches.pop()
            a = _to_seconds(head.start)
        else:
            a = at
        begin, finish = _to_datetime(a), _to_datetime(until)
        stretches.append(Stretch(begin, finish, clock.elapsed(begin, finish), why, holiday))
        at = until
    return stretches


def _wall_instant(zone: ZoneInfo, day: date, minute: int) -> int:
    """The instant (seconds, UTC) of a local wall time, `minute` minutes into `day`
    (1440: the next midnight); fold=0, as the calendar reads wall time."""
    wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    return _to_seconds(wall.replace(tzinfo=zone))


def business_days(clock: Clock, days: int) -> int:
    """Clock seconds in `days` business days: N x the longest working day of a business
    calendar (E2), N x 86400 on any other clock (24x7)."""
    if isinstance(clock, BusinessCalendar):
        return days * clock.business_day_seconds
    return days * DAY


@lru_cache(maxsize=256)
def _business_calendar(spec_json: str) -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec.model_validate_json(spec_json))


def clock_for(kind: str, calendar: CalendarSpec) -> Clock:
    """The clock of a target: `24x7` is continuous, `business` counts the calendar's
    working hours (cached per calendar content)."""
    if kind == "24x7":
        return CONTINUOUS
    if kind == "business":
        return _business_calendar(calendar.model_dump_json())
    raise ValueError(f"unknown clock {kind!r}")
