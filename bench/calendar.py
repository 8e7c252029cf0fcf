"""Due instants on the Aivo calendar: slaguard's BusinessCalendar vs businesstimedelta.

Run from the repository root: `python -m bench.calendar`. Prints figures; it is not a
test. The calendar is Mon-Fri 09:00-18:00 America/Argentina/Buenos_Aires with the
Argentine holidays (`holidays` package, default categories) of the years touched.
Goals: >= 10x faster than businesstimedelta, zero wrong answers on the oracle sample,
60 business days within 2x the cost of 1 business hour.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import businesstimedelta
import holidays
import pytz  # type: ignore[import-untyped]

from chalicelib.domain.calendar import BusinessCalendar, CalendarSpec

SEED = 20261116
CALLS = 10_000
SAMPLE = 200
ZONE_NAME = "America/Argentina/Buenos_Aires"
FIRST_START = datetime(2025, 1, 1, tzinfo=UTC)
LAST_START = datetime(2027, 1, 1, tzinfo=UTC)
YEARS = range(2024, 2029)  # every year a start plus 60 business days can touch
HOUR = 3600
BUSINESS_DAY = 9 * HOUR
OPEN_MINUTE, CLOSE_MINUTE = 9 * 60, 18 * 60

Case = tuple[datetime, int]


def argentine_holidays() -> frozenset[date]:
    return frozenset(holidays.country_holidays("AR", years=YEARS))


def slaguard_calendar() -> BusinessCalendar:
    return BusinessCalendar(
        CalendarSpec(
            timezone=ZONE_NAME,
            country="AR",
            hours={key: [("09:00", "18:00")] for key in ("mon", "tue", "wed", "thu", "fri")},
        )
    )


def businesstimedelta_rules(closed: frozenset[date]) -> object:
    zone = pytz.timezone(ZONE_NAME)
    workday = businesstimedelta.WorkDayRule(
        start_time=datetime.min.time().replace(hour=9),
        end_time=datetime.min.time().replace(hour=18),
        working_days=[0, 1, 2, 3, 4],
        tz=zone,
    )
    holiday = businesstimedelta.HolidayRule(closed, tz=zone)
    return businesstimedelta.Rules([workday, holiday])


def cases(rng: random.Random) -> list[Case]:
    """Minute-aligned starts (so the oracle can walk minutes) and durations."""
    span = int((LAST_START - FIRST_START).total_seconds()) // 60
    return [
        (
            FIRST_START + timedelta(minutes=rng.randrange(span)),
            rng.randint(60, 60 * BUSINESS_DAY // 60) * 60,
        )
        for _ in range(CALLS)
    ]


def oracle_due(start: datetime, seconds: int, closed: frozenset[date]) -> datetime:
    """Walk local wall minutes from `start` until `seconds` working minutes have passed.

    Buenos Aires has kept UTC-03:00 since 2009 (checked in `main`), so wall minutes
    and real minutes are the same minutes here."""
    zone = ZoneInfo(ZONE_NAME)
    wall = start.astimezone(zone).replace(tzinfo=None)
    minute = wall.toordinal() * 1440 + wall.hour * 60 + wall.minute
    needed = seconds // 60
    closed_days = {day.toordinal() for day in closed}
    while needed:
        day, in_day = divmod(minute, 1440)
        if (
            (day - 1) % 7 < 5  # ordinal 1 is a Monday
            and OPEN_MINUTE <= in_day < CLOSE_MINUTE
            and day not in closed_days
        ):
            needed -= 1
        minute += 1
    day, in_day = divmod(minute, 1440)
    due_wall = datetime.fromordinal(day) + timedelta(minutes=in_day)
    return due_wall.replace(tzinfo=zone).astimezone(UTC)


def per_call_us(
    run: Callable[[Sequence[Case]], object], work: Sequence[Case], repeat: int
) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        run(work)
        best = min(best, time.perf_counter() - began)
    return best / len(work) * 1e6


def main() -> None:
    zone = ZoneInfo(ZONE_NAME)
    offsets = {
        (datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=d)).astimezone(zone).utcoffset()
        for year in YEARS
        for d in range(366)
    }
    assert len(offsets) == 1, "the oracle walks wall minutes: it needs a fixed offset"

    rng = random.Random(SEED)
    work = cases(rng)
    closed = argentine_holidays()
    calendar = slaguard_calendar()
    rules = businesstimedelta_rules(closed)

    def run_slaguard(items: Sequence[Case]) -> list[datetime]:
        return [calendar.add(start, seconds) for start, seconds in items]

    def run_btd(items: Sequence[Case]) -> list[datetime]:
        return [
            start + businesstimedelta.BusinessTimeDelta(rules, seconds=seconds)
            for start, seconds in items
        ]

    run_slaguard(work[:100])  # load the years touched once, as a warm Lambda would have
    slaguard_us = per_call_us(run_slaguard, work, repeat=3)
    began = time.perf_counter()
    btd_answers = run_btd(work)
    btd_us = (time.perf_counter() - began) / len(work) * 1e6
    slaguard_answers = run_slaguard(work)

    sample = rng.sample(range(CALLS), SAMPLE)
    expected = {i: oracle_due(*work[i], closed) for i in sample}
    slaguard_wrong = sum(slaguard_answers[i] != expected[i] for i in sample)
    btd_wrong = sum(btd_answers[i] != expected[i] for i in sample)
    disagreements = sum(a != b for a, b in zip(slaguard_answers, btd_answers, strict=True))

    starts = [start for start, _ in work]
    one_hour = [(start, HOUR) for start in starts]
    sixty_days = [(start, 60 * BUSINESS_DAY) for start in starts]
    run_slaguard(sixty_days[:100])
    hour_us = per_call_us(run_slaguard, one_hour, repeat=3)
    days_us = per_call_us(run_slaguard, sixty_days, repeat=3)

    print(f"calls: {CALLS} (seed {SEED}), durations 1 business hour .. 60 business days")
    print(f"slaguard BusinessCalendar.add : {slaguard_us:10.2f} us/call")
    print(f"businesstimedelta             : {btd_us:10.2f} us/call")
    print(f"ratio businesstimedelta/slaguard: {btd_us / slaguard_us:8.1f}x")
    print(
        f"wrong on an oracle sample of {SAMPLE}: slaguard {slaguard_wrong}, "
        f"businesstimedelta {btd_wrong}"
    )
    print(f"slaguard vs businesstimedelta disagreements on all {CALLS}: {disagreements}")
    print(f"slaguard 1 business hour    : {hour_us:8.2f} us/call")
    print(f"slaguard 60 business days   : {days_us:8.2f} us/call")
    print(f"ratio 60 days / 1 hour      : {days_us / hour_us:8.2f}x")


if __name__ == "__main__":
    main()
