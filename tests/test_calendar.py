"""The working-hours clock: business hours, the Russian production calendar, DST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.calendar import BusinessHours, DayHours, WorkCalendar

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = "Mon-Fri 09:00-18:00"
CIVIL_SERVICE = "Mon-Thu 09:00-18:00, Fri 09:00-16:45"


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def calendar(hours: str = OFFICE, tz: ZoneInfo = MSK, **options: bool) -> WorkCalendar:
    return WorkCalendar(BusinessHours.parse(hours), tz, **options)


@pytest.fixture(scope="module")
def office() -> WorkCalendar:
    return calendar()


def short_days(cal: WorkCalendar, year: int, length: timedelta) -> set[date]:
    """Working days of `year` shorter than `length`."""
    found = set()
    day = date(year, 1, 1)
    while day.year == year:
        span = cal.working_hours_on(day)
        if span is not None and span[1] - span[0] < length:
            found.add(day)
        day += timedelta(days=1)
    return found


# --- BusinessHours.parse ---


def test_parse_24_7_is_always_open() -> None:
    assert BusinessHours.parse(" 24/7 ").always_open


def test_parse_reads_ranges_single_days_and_both_separators() -> None:
    hours = BusinessHours.parse("mon-THU 09:00-18:00; Fri 09:00-16:45, sat 10:00-14:00")
    assert not hours.always_open
    assert hours.week == (
        *[DayHours(9 * 60, 18 * 60)] * 4,
        DayHours(9 * 60, 16 * 60 + 45),
        DayHours(10 * 60, 14 * 60),
        None,
    )


def test_parse_accepts_midnight_as_closing() -> None:
    assert BusinessHours.parse("Sun 00:00-24:00").week[6] == DayHours(0, 24 * 60)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Mon-Fri 18:00-09:00", "closes before it opens"),
        ("Xyz 09:00-18:00", "unknown day 'Xyz'"),
        ("", "empty"),
        ("   ", "empty"),
        ("Mon-Fri", "not like"),
        ("Mon-Fri 09:00-25:00", "impossible time"),
        ("Mon-Fri 09:60-18:00", "impossible time"),
        ("Fri-Mon 09:00-18:00", "backwards"),
        ("Mon-Fri 09:00-18:00, Fri 10:00-12:00", "Fri twice"),
        ("Mon-Fri 09:00-18:00,", "not like"),
    ],
)
def test_parse_rejects_bad_schedules_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(value)


def test_calendar_rejects_a_schedule_without_working_days() -> None:
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar(BusinessHours(always_open=False), MSK)


# --- add_working_time on ordinary weeks ---


def test_friday_evening_plus_eight_hours_lands_on_monday_afternoon(office: WorkCalendar) -> None:
    due = office.add_working_time(msk(2026, 10, 16, 17, 30), timedelta(hours=8))
    assert due == msk(2026, 10, 19, 16, 30)
    assert due.tzinfo is UTC


def test_start_outside_hours_counts_from_next_opening(office: WorkCalendar) -> None:
    assert office.add_working_time(msk(2026, 10, 14, 7), timedelta(hours=1)) == msk(
        2026, 10, 14, 10
    )
    assert office.add_working_time(msk(2026, 10, 17, 12), timedelta(0)) == msk(2026, 10, 19, 9)


def test_delta_ending_at_closing_stays_on_that_day(office: WorkCalendar) -> None:
    assert office.add_working_time(msk(2026, 10, 16, 17), timedelta(hours=1)) == msk(
        2026, 10, 16, 18
    )


def test_seven_working_days_walk_day_by_day() -> None:
    looked_up: list[date] = []

    class Spy(WorkCalendar):
        def working_hours_on(self, day: date) -> tuple[datetime, datetime] | None:
            looked_up.append(day)
            return super().working_hours_on(day)

    cal = Spy(BusinessHours.parse(OFFICE), MSK)
    due = cal.add_working_time(msk(2026, 10, 14, 12), timedelta(hours=7 * 9))
    assert due == msk(2026, 10, 23, 12)
    assert len(looked_up) == 10


def test_negative_delta_is_rejected(office: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        office.add_working_time(msk(2026, 10, 14, 12), timedelta(seconds=-1))


def test_custom_schedule_closes_early_on_friday() -> None:
    cal = calendar(CIVIL_SERVICE)
    assert cal.add_working_time(msk(2026, 10, 16, 16), timedelta(hours=1)) == msk(
        2026, 10, 19, 9, 15
    )
    assert cal.working_time_between(msk(2026, 10, 12), msk(2026, 10, 17)) == timedelta(
        hours=4 * 9 + 7, minutes=45
    )


# --- the production calendar ---


def test_start_on_a_public_holiday_counts_from_next_working_day(office: WorkCalendar) -> None:
    assert not office.is_working_day(date(2026, 6, 12))
    assert office.add_working_time(msk(2026, 6, 12, 10), timedelta(hours=1)) == msk(
        2026, 6, 15, 10
    )


def test_new_year_holidays_2026_2027_are_skipped(office: WorkCalendar) -> None:
    # 30 Dec works in full (31 Dec is a transferred day off), then 1-10 Jan are off.
    due = office.add_working_time(msk(2026, 12, 30, 17), timedelta(hours=8))
    assert due == msk(2027, 1, 11, 16)


def test_pre_holiday_day_ends_an_hour_early(office: WorkCalendar) -> None:
    closing = msk(2026, 11, 3, 17)
    assert office.working_hours_on(date(2026, 11, 3)) == (msk(2026, 11, 3, 9), closing)
    assert office.add_working_time(msk(2026, 11, 3, 16), timedelta(hours=2)) == msk(
        2026, 11, 5, 10
    )


def test_pre_holiday_cut_applies_to_a_short_friday_too() -> None:
    cal = calendar(CIVIL_SERVICE)
    assert cal.working_hours_on(date(2026, 5, 8)) == (msk(2026, 5, 8, 9), msk(2026, 5, 8, 15, 45))


def test_shortened_days_2026_are_those_of_the_production_calendar(office: WorkCalendar) -> None:
    assert short_days(office, 2026, timedelta(hours=9)) == {
        date(2026, 4, 30),
        date(2026, 5, 8),
        date(2026, 6, 11),
        date(2026, 11, 3),
    }


def test_shortened_days_2025_include_the_working_saturday(office: WorkCalendar) -> None:
    # 8 May 2025 is a transferred day off, so 7 May is not shortened; Saturday 1 Nov works
    # in place of Monday 3 Nov, the day before Unity Day, and is short like it.
    assert short_days(office, 2025, timedelta(hours=9)) == {
        date(2025, 3, 7),
        date(2025, 4, 30),
        date(2025, 6, 11),
        date(2025, 11, 1),
    }


def test_shortened_days_2027_follow_art_95(office: WorkCalendar) -> None:
    # Saturday 20 Feb works in place of Monday 22 Feb, the day before 23 Feb.
    assert short_days(office, 2027, timedelta(hours=9)) == {
        date(2027, 2, 20),
        date(2027, 4, 30),
        date(2027, 6, 11),
        date(2027, 11, 3),
    }


@pytest.mark.parametrize(
    "day",
    [date(2026, 1, 9), date(2026, 3, 9), date(2026, 5, 11), date(2026, 12, 31)],
)
def test_transferred_days_off_are_not_working(office: WorkCalendar, day: date) -> None:
    assert not office.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 12, 30), date(2025, 5, 7), date(2027, 12, 30)])
def test_day_before_a_transferred_day_off_is_not_shortened(
    office: WorkCalendar, day: date
) -> None:
    assert office.working_hours_on(day) == (
        msk(day.year, day.month, day.day, 9),
        msk(day.year, day.month, day.day, 18),
    )


@pytest.mark.parametrize(
    ("day", "closes"),
    [(date(2024, 12, 28), 18), (date(2024, 4, 27), 18), (date(2024, 11, 2), 17)],
)
def test_working_saturday_works_the_weekday_it_replaces(
    office: WorkCalendar, day: date, closes: int
) -> None:
    # 28 Dec 2024 replaced an ordinary Monday; 2 Nov 2024 replaced 30 Apr, a pre-holiday day.
    assert office.working_hours_on(day) == (
        msk(day.year, day.month, day.day, 9),
        msk(day.year, day.month, day.day, closes),
    )


def test_working_saturday_follows_the_weekday_schedule() -> None:
    cal = calendar(CIVIL_SERVICE)
    assert cal.is_working_day(date(2024, 12, 28))
    assert cal.working_time_between(msk(2024, 12, 28), msk(2024, 12, 29)) == timedelta(hours=9)


@pytest.mark.parametrize(
    ("year", "days", "hours"),
    [
        (2018, 247, 1970),
        (2019, 247, 1970),
        (2020, 248, 1979),
        (2021, 247, 1972),
        (2022, 247, 1973),
        (2023, 247, 1973),
        (2024, 248, 1979),
        (2025, 247, 1972),
        (2026, 247, 1972),
    ],
)
def test_year_totals_match_the_official_40_hour_norm(year: int, days: int, hours: int) -> None:
    cal = calendar("Mon-Fri 09:00-17:00")
    start, end = msk(year, 1, 1), msk(year + 1, 1, 1)
    working_days = sum(
        cal.is_working_day(date(year, 1, 1) + timedelta(days=n)) for n in range((end - start).days)
    )
    assert working_days == days
    assert cal.working_time_between(start, end) == timedelta(hours=hours)


def test_without_production_calendar_holidays_are_ordinary_days() -> None:
    cal = calendar(production_calendar=False)
    assert cal.is_working_day(date(2026, 6, 12))
    assert not cal.is_working_day(date(2024, 12, 28))
    assert cal.working_hours_on(date(2026, 11, 3)) == (msk(2026, 11, 3, 9), msk(2026, 11, 3, 18))


# --- working_time_between, and a deadline counted from outside working hours ---


def test_working_time_between_skips_a_weekend(office: WorkCalendar) -> None:
    assert office.working_time_between(msk(2026, 10, 16, 17), msk(2026, 10, 19, 10)) == (
        timedelta(hours=2)
    )


def test_working_time_between_skips_a_holiday(office: WorkCalendar) -> None:
    # 11 Jun 2026 closes at 17:00 before Russia Day; 12-14 Jun are off.
    assert office.working_time_between(msk(2026, 6, 11, 16), msk(2026, 6, 15, 10)) == (
        timedelta(hours=2)
    )


def test_working_time_between_is_zero_for_an_empty_range(office: WorkCalendar) -> None:
    moment = msk(2026, 10, 14, 12)
    assert office.working_time_between(moment, moment) == timedelta(0)
    assert office.working_time_between(moment, moment - timedelta(hours=1)) == timedelta(0)


def test_time_counts_from_the_next_opening_after_hours(office: WorkCalendar) -> None:
    inside = msk(2026, 10, 14, 12)
    assert office.add_working_time(inside, timedelta(0)) == inside
    assert office.add_working_time(inside, timedelta(0)).tzinfo is UTC
    assert office.add_working_time(msk(2026, 10, 16, 18), timedelta(0)) == msk(2026, 10, 19, 9)
    assert office.add_working_time(msk(2026, 12, 30, 18), timedelta(0)) == msk(2027, 1, 11, 9)


def test_moments_in_other_zones_are_converted(office: WorkCalendar) -> None:
    # 06:30 UTC is 09:30 in Moscow: working time; 05:58-05:59 UTC is 08:58-08:59, not.
    start = datetime(2026, 10, 14, 6, 30, tzinfo=UTC)
    assert office.working_time_between(start, start + timedelta(minutes=1)) == timedelta(minutes=1)
    early = datetime(2026, 10, 14, 5, 58, tzinfo=UTC)
    assert office.working_time_between(early, early + timedelta(minutes=1)) == timedelta(0)


@pytest.mark.parametrize(
    "call",
    [
        lambda cal, naive: cal.add_working_time(naive, timedelta(hours=1)),
        lambda cal, naive: cal.working_time_between(naive, naive),
    ],
)
def test_naive_datetimes_are_rejected(
    office: WorkCalendar, call: Callable[[WorkCalendar, datetime], object]
) -> None:
    with pytest.raises(ValueError, match="naive"):
        call(office, datetime(2026, 10, 14, 12))  # noqa: DTZ001


# --- 24/7 and DST ---


def test_always_open_adds_delta_exactly() -> None:
    cal = calendar("24/7")
    start = msk(2026, 1, 1, 3, 17)
    assert cal.add_working_time(start, timedelta(hours=8, seconds=5)) == start + timedelta(
        hours=8, seconds=5
    )
    assert cal.working_time_between(start, start + timedelta(days=3)) == timedelta(days=3)
    assert cal.is_working_day(date(2026, 1, 1))
    assert cal.add_working_time(start, timedelta(0)) == start


def test_dst_day_counts_real_elapsed_time() -> None:
    # Berlin skips 02:00-03:00 on 29 Mar 2026: 01:00-04:00 on the wall is two hours.
    cal = calendar("Sun 01:00-04:00", BERLIN, production_calendar=False)
    day = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert cal.working_time_between(day, day + timedelta(days=1)) == timedelta(hours=2)


def test_opening_hours_keep_wall_time_across_dst() -> None:
    cal = calendar(OFFICE, BERLIN, production_calendar=False)
    due = cal.add_working_time(datetime(2026, 3, 27, 17, tzinfo=BERLIN), timedelta(hours=2))
    assert due == datetime(2026, 3, 30, 10, tzinfo=BERLIN)
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)


# --- properties ---

_CALENDARS = [
    calendar(OFFICE),
    calendar(CIVIL_SERVICE),
    calendar("Sat 10:00-11:00"),
    calendar("Mon-Sun 00:00-24:00", BERLIN),
    calendar(OFFICE, BERLIN, production_calendar=False),
]
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_SPAN = int(timedelta(days=5 * 365).total_seconds())
_calendars = st.sampled_from(_CALENDARS)
_starts = st.builds(
    lambda seconds, tz: (_EPOCH + timedelta(seconds=seconds)).astimezone(tz),
    st.integers(0, _SPAN),
    st.sampled_from([UTC, MSK, BERLIN]),
)
_deltas = st.integers(0, 40 * 3600).map(lambda seconds: timedelta(seconds=seconds))


@settings(database=None, deadline=None, max_examples=300)
@given(cal=_calendars, start=_starts, delta=_deltas)
def test_working_time_between_inverts_add_working_time(
    cal: WorkCalendar, start: datetime, delta: timedelta
) -> None:
    due = cal.add_working_time(start, delta)
    assert due >= start
    assert cal.working_time_between(start, due) == delta


@settings(database=None, deadline=None, max_examples=300)
@given(cal=_calendars, start=_starts, first=_deltas, second=_deltas)
def test_add_working_time_is_monotonic_in_delta(
    cal: WorkCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    low, high = sorted((first, second))
    assert cal.add_working_time(start, low) <= cal.add_working_time(start, high)


# --- working days ahead: an interim answer's date ---


def test_working_days_later_ends_at_the_close_of_the_nth_working_day(
    office: WorkCalendar,
) -> None:
    friday = msk(2026, 10, 16, 11)
    assert office.working_days_later(friday, 1) == msk(2026, 10, 19, 18)  # Monday
    assert office.working_days_later(friday, 3) == msk(2026, 10, 21, 18)
    assert office.working_days_later(friday, 1).tzinfo is UTC
    # From Saturday too the next working day is Monday.
    assert office.working_days_later(msk(2026, 10, 17, 12), 1) == msk(2026, 10, 19, 18)


def test_working_days_later_skips_holidays_and_keeps_short_days(office: WorkCalendar) -> None:
    # 3 Nov 2026 closes at 17:00 before National Unity Day; 4 Nov is off.
    assert office.working_days_later(msk(2026, 11, 2, 10), 1) == msk(2026, 11, 3, 17)
    assert office.working_days_later(msk(2026, 11, 2, 10), 2) == msk(2026, 11, 5, 18)
    # 30 Dec, then the New Year holidays to 10 Jan: the first working day is 11 Jan.
    assert office.working_days_later(msk(2026, 12, 30, 10), 1) == msk(2027, 1, 11, 18)


def test_working_days_later_around_the_clock_is_days() -> None:
    cal = calendar("24/7")
    start = msk(2026, 1, 1, 3, 17)
    assert cal.working_days_later(start, 7) == start + timedelta(days=7)


def test_working_days_later_needs_a_day_at_least(office: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        office.working_days_later(msk(2026, 10, 16, 11), 0)
