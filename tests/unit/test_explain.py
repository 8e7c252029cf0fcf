"""Why a target is due when it is (issue 23): `calendar.walk` and `sla.steps`.

The steps of a target cover its way from `started_at` to its due instant without
gaps, their counted seconds add up to its duration (E4), and each says why it
counted or not: business hours, outside hours, weekend, holiday (with its day),
paused (with the status), 24x7. Checked by hand on the cases a reader asks about
(a Friday-evening ticket due on Tuesday, a holiday, a DST change) and as a
property over random starts, durations and pauses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import sla
from chalicelib.domain.calendar import CONTINUOUS, BusinessCalendar, CalendarSpec, Clock, walk

HOUR = 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(timezone: str, country: str | None = None, **more: object) -> BusinessCalendar:
    return BusinessCalendar(
        CalendarSpec.model_validate(
            {
                "timezone": timezone,
                "country": country,
                "hours": {key: [("09:00", "18:00")] for key in WEEKDAYS},
                **more,
            }
        )
    )


AIVO = office("America/Argentina/Buenos_Aires", "AR")  # A1
MADRID = office("Europe/Madrid")
NEW_YORK = office("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def assert_gapless(found: list[sla.Step], start: datetime, end: datetime) -> None:
    assert found[0].start == start
    assert found[-1].end == end
    for before, after in pairwise(found):
        assert before.end == after.start
        assert before.start < before.end


def running(seconds: int, start: datetime, clock: str = "business") -> sla.Target:
    return sla.start_target(sla.TargetSpec("resolution", clock, seconds), start)


def whys(found: list[sla.Step]) -> list[str]:
    return [s.why for s in found]


def test_a_friday_evening_ticket_is_due_on_tuesday() -> None:
    # Given an Aivo high incident (A2: resolution 8 business hours) reported on
    # Friday 2026-05-22 at 19:00 in Buenos Aires (22:00 UTC), after closing time,
    # before the weekend and Monday 25 May, a national holiday (A1)
    reported = utc(2026, 5, 22, 22, 0)
    target = running(8 * HOUR, reported)
    # When it is explained
    found = sla.steps(target, AIVO, reported)
    due = sla.due_instant(target, AIVO)
    # Then it is due on Tuesday at 17:00 local, and the steps say why
    assert due == utc(2026, 5, 26, 20, 0)
    assert_gapless(found, reported, due)
    assert [(s.why, s.day, s.counted) for s in found] == [
        ("outside hours", None, 0),  # Friday evening (E3: counts from the next opening)
        ("weekend", None, 0),
        ("holiday", date(2026, 5, 25), 0),
        ("outside hours", None, 0),  # Tuesday before 09:00
        ("business hours", None, 8 * HOUR),  # Tuesday 09:00-17:00
    ]
    assert found[1].start == utc(2026, 5, 23, 3, 0)  # Saturday 00:00 local


def test_a_holiday_is_a_step_of_its_own_with_its_date() -> None:
    # Given the same ticket reported the Friday before Argentina's 2026-05-25 holiday
    reported = utc(2026, 5, 22, 20, 0)
    target = running(8 * HOUR, reported)
    found = sla.steps(target, AIVO, reported)
    due = sla.due_instant(target, AIVO)
    assert due is not None
    assert_gapless(found, reported, due)
    holidays = [s for s in found if s.why == "holiday"]
    # Then Monday is a holiday step naming the day, and it counts nothing
    assert [(s.day, s.counted) for s in holidays] == [(date(2026, 5, 25), 0)]
    assert holidays[0].to_dict()["date"] == "2026-05-25"
    assert due == utc(2026, 5, 26, 19, 0)  # Tuesday 16:00 local
    assert sum(s.counted for s in found) == 8 * HOUR


def test_steps_across_a_spring_forward_keep_local_hours_and_add_up() -> None:
    # Given Madrid (CET -> CEST on Sunday 2026-03-29) and 16 business hours from
    # Friday 2026-03-27 17:00 CET (16:00 UTC)
    reported = utc(2026, 3, 27, 16, 0)
    target = running(16 * HOUR, reported)
    found = sla.steps(target, MADRID, reported)
    due = sla.due_instant(target, MADRID)
    assert due is not None
    assert_gapless(found, reported, due)
    business = [s for s in found if s.why == "business hours"]
    # Then Friday opens at 08:00 UTC (09:00 CET) and Monday at 07:00 UTC (09:00 CEST)
    assert business[1].start == utc(2026, 3, 30, 7, 0)
    assert business[1].end == utc(2026, 3, 30, 16, 0)
    assert due == utc(2026, 3, 31, 13, 0)  # Tuesday 15:00 CEST
    assert sum(s.counted for s in found) == 16 * HOUR


def test_steps_across_a_fall_back_add_up() -> None:
    # New York falls back on Sunday 2026-11-01: the weekend is 49 hours long
    reported = utc(2026, 10, 30, 21, 0)  # Friday 17:00 EDT
    target = running(2 * HOUR, reported)
    found = sla.steps(target, NEW_YORK, reported)
    due = sla.due_instant(target, NEW_YORK)
    assert due == utc(2026, 11, 2, 15, 0)  # Monday 10:00 EST
    assert_gapless(found, reported, due)
    weekend = next(s for s in found if s.why == "weekend")
    assert weekend.end - weekend.start == timedelta(hours=49)
    assert sum(s.counted for s in found) == 2 * HOUR


def test_a_pause_is_a_step_with_the_status_and_counts_nothing() -> None:
    start = utc(2026, 5, 4, 13, 0)  # Monday 10:00 in Buenos Aires
    target = running(8 * HOUR, start)
    target = sla.pause(target, AIVO, start + timedelta(hours=2))  # E6
    target = sla.resume(target, AIVO, start + timedelta(days=1))
    found = sla.steps(target, AIVO, start + timedelta(days=1), lambda _at: "pending_customer")
    due = sla.due_instant(target, AIVO)
    assert due is not None
    assert_gapless(found, start, due)
    paused = [s for s in found if s.why == "paused"]
    assert [(s.start, s.end, s.counted, s.status) for s in paused] == [
        (start + timedelta(hours=2), start + timedelta(days=1), 0, "pending_customer")
    ]
    assert paused[0].to_dict()["status"] == "pending_customer"
    assert sum(s.counted for s in found) == 8 * HOUR


def test_a_paused_target_is_explained_up_to_now() -> None:
    start = utc(2026, 5, 4, 13, 0)
    target = sla.pause(running(8 * HOUR, start), AIVO, start + timedelta(hours=1))
    now = start + timedelta(hours=5)
    found = sla.steps(target, AIVO, now, lambda _at: "pending_customer")
    assert sla.due_instant(target, AIVO) is None
    assert_gapless(found, start, now)
    assert whys(found) == ["business hours", "paused"]


def test_a_24x7_target_is_one_step() -> None:
    start = utc(2026, 5, 8, 20, 0)
    target = running(HOUR, start, clock="24x7")
    found = sla.steps(target, CONTINUOUS, start)
    assert [(s.start, s.end, s.counted, s.why) for s in found] == [
        (start, start + timedelta(hours=1), HOUR, "24x7")
    ]


def test_a_met_target_is_explained_up_to_the_due_instant_that_applied() -> None:
    start = utc(2026, 5, 4, 13, 0)
    target = sla.meet(running(4 * HOUR, start), AIVO, start + timedelta(hours=1))  # E5
    found = sla.steps(target, AIVO, start + timedelta(days=3))
    assert target.due_at == start + timedelta(hours=4)
    assert_gapless(found, start, start + timedelta(hours=4))
    assert sum(s.counted for s in found) == 4 * HOUR


def test_a_pending_target_has_no_steps() -> None:
    spec = sla.TargetSpec("first_response", "24x7", 3 * HOUR, starts_on="payment")  # DX2
    assert sla.steps(sla.start_target(spec, utc(2026, 5, 4)), CONTINUOUS, utc(2026, 5, 5)) == []


def test_walk_of_nothing_is_empty() -> None:
    assert walk(AIVO, utc(2026, 5, 4), utc(2026, 5, 4)) == []


CLOCKS: tuple[Clock, ...] = (AIVO, MADRID, NEW_YORK, office("Asia/Kolkata", "IN"), CONTINUOUS)


@settings(max_examples=150, deadline=None)
@given(
    clock=st.sampled_from(CLOCKS),
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    seconds=st.integers(min_value=1, max_value=60 * 9 * HOUR),
    pauses=st.lists(
        st.tuples(st.integers(0, 30 * 86_400), st.integers(1, 10 * 86_400)), max_size=3
    ),
)
def test_steps_are_gapless_and_add_up_to_the_target(
    clock: Clock, start: datetime, seconds: int, pauses: list[tuple[int, int]]
) -> None:
    start = start.replace(tzinfo=UTC, microsecond=0)
    kind = "24x7" if clock is CONTINUOUS else "business"
    target = running(seconds, start, clock=kind)
    at = start
    for run, pause in pauses:  # E6: pauses and resumes along the way
        at += timedelta(seconds=run)
        target = sla.pause(target, clock, at)
        at += timedelta(seconds=pause)
        target = sla.resume(target, clock, at)
    found = sla.steps(target, clock, at, lambda _at: "pending_customer")
    due = sla.due_instant(target, clock)
    assert due is not None
    # Then (also when the duration ran out before a later pause: E4, the due
    # instant is where it ran out) the steps reach the due instant without gaps,
    # and only the clock's own steps count, exactly the duration in all
    assert_gapless(found, start, due)
    assert sum(s.counted for s in found) == seconds
    counting = "24x7" if kind == "24x7" else "business hours"
    assert all(s.counted == 0 for s in found if s.why != counting)
