"""Working-hours clock: business hours and the Russian production calendar.

Tickets escalate after so much *working* time; this module turns a span of working time into a
moment and back. Everything is computed in UTC from wall times built per local day, so a zone
with DST is handled too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

__all__ = ["BusinessHours", "DayHours", "WorkCalendar"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_INDEX = {name: i for names in (_DAYS, _FULL_DAYS) for i, name in enumerate(names)}
_GROUP = re.compile(
    r"(?P<first>[a-z]+)(?:\s*-\s*(?P<last>[a-z]+))?"
    r"\s+(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})",
    re.IGNORECASE,
)
_MINUTES_PER_DAY = 24 * 60
# Labour Code art. 95: the working day before a non-working public holiday is one hour shorter.
_PRE_HOLIDAY_CUT = 60
# No real schedule leaves a year without working time; walking further means a bug, not a wait.
_MAX_IDLE_DAYS = 366


@dataclass(frozen=True)
class DayHours:
    """One weekday's opening and closing, in minutes after local midnight (closes may be 1440)."""

    opens: int
    closes: int


@dataclass(frozen=True)
class BusinessHours:
    """The weekly schedule from the BUSINESS_HOURS setting; `week[0]` is Monday."""

    always_open: bool
    week: tuple[DayHours | None, ...] = (None,) * 7

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days, Monday first")

    @classmethod
    def parse(cls, value: str) -> BusinessHours:
        """Parse "24/7" or groups like "Mon-Thu 09:00-18:00, Fri 09:00-16:45"."""
        text = value.strip()
        if not text:
            raise ValueError("BUSINESS_HOURS is empty; use e.g. 'Mon-Fri 09:00-18:00' or '24/7'")
        if text == "24/7":
            return cls(always_open=True)
        week: list[DayHours | None] = [None] * 7
        for group in re.split(r"[,;]", text):
            for day, hours in _parse_group(group.strip()):
                if week[day] is not None:
                    raise ValueError(f"BUSINESS_HOURS names {_DAYS[day].title()} twice")
                week[day] = hours
        return cls(always_open=False, week=tuple(week))


def _parse_group(group: str) -> Iterator[tuple[int, DayHours]]:
    """Yield (weekday, hours) for one group such as "Mon-Fri 09:00-18:00"."""
    match = _GROUP.fullmatch(group)
    if match is None:
        raise ValueError(f"BUSINESS_HOURS group {group!r} is not like 'Mon-Fri 09:00-18:00'")
    first = _day(match["first"])
    last = first if match["last"] is None else _day(match["last"])
    if last < first:
        raise ValueError(f"BUSINESS_HOURS range {group!r} runs backwards; write Mon..Sun order")
    opens, closes = _minutes(match["opens"]), _minutes(match["closes"])
    if opens >= closes:
        raise ValueError(f"BUSINESS_HOURS group {group!r} closes before it opens")
    for day in range(first, last + 1):
        yield day, DayHours(opens, closes)


def _day(name: str) -> int:
    try:
        return _DAY_INDEX[name.lower()]
    except KeyError:
        raise ValueError(f"BUSINESS_HOURS has an unknown day {name!r}; use Mon..Sun") from None


def _minutes(clock: str) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"BUSINESS_HOURS has an impossible time {clock!r}")
    return hours * 60 + minutes


class _ProductionCalendar:
    """Russia's days off, working Saturdays and public holidays, from the holidays package."""

    def __init__(self) -> None:
        # Public holidays, days off transferred by government decree and art. 112 part 2
        # moves of a holiday that fell on a weekend; years are filled in on first use.
        self._days_off = holidays.country_holidays("RU")
        # observed=False drops the art. 112 moves but keeps the decree transfers.
        self._not_moved = holidays.country_holidays("RU", observed=False)
        # The decree transfers live only in the package's data: (to_month, to_day, from_month,
        # from_day[, from_year]) per year. A working Saturday takes the work of the `to` day.
        self._replaced: dict[date, date] = {}
        special: dict[int, Any] = getattr(self._days_off, "special_public_holidays", {})
        for year, entries in special.items():
            # A year with one entry holds the bare tuple, not a tuple of tuples.
            for entry in entries if entries and isinstance(entries[0], tuple) else (entries,):
                if len(entry) >= 4:
                    to_month, to_day, from_month, from_day, *from_year = entry
                    moved_from = date(from_year[0] if from_year else year, from_month, from_day)
                    self._replaced[moved_from] = date(year, to_month, to_day)
        self._transferred = set(self._replaced.values())

    def is_day_off(self, day: date) -> bool:
        """A public holiday or a transferred day off (not an ordinary weekend)."""
        return day in self._days_off

    def is_public_holiday(self, day: date) -> bool:
        """A non-working public holiday of art. 112 itself, not a day off moved onto a weekday."""
        return day in self._not_moved and day not in self._transferred

    def is_working_weekend(self, day: date) -> bool:
        """A Saturday or Sunday made a working day by a transfer decree."""
        self.is_day_off(day)  # fills the year in, and with it `weekend_workdays`
        return day in self._days_off.weekend_workdays

    def replaced_day(self, day: date) -> date | None:
        """The weekday whose work a working weekend day takes, if the package says which."""
        return self._replaced.get(day)


class WorkCalendar:
    """Working time under business hours and, optionally, the Russian production calendar."""

    def __init__(
        self, hours: BusinessHours, tz: ZoneInfo, *, production_calendar: bool = True
    ) -> None:
        if not hours.always_open and not any(hours.week):
            raise ValueError("business hours name no working day")
        self._hours = hours
        self._tz = tz
        self._production = _ProductionCalendar() if production_calendar else None
        self._spans: dict[date, tuple[datetime, datetime] | None] = {}

    def is_working_day(self, day: date) -> bool:
        """Whether `day` (a local date) has any working hours."""
        return self._hours.always_open or self.working_hours_on(day) is not None

    def working_hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC [opening, closing) of a local date, or None for a day off."""
        if day not in self._spans:
            self._spans[day] = self._compute_span(day)
        return self._spans[day]

    def working_days_later(self, start: datetime, days: int) -> datetime:
        """The close of the `days`-th working day after the local day `start` falls on.

        How an interim answer's date is counted: «within 7 working days» from today.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        instant = _as_utc(start)
        if self._hours.always_open:
            return instant + timedelta(days=days)
        day = instant.astimezone(self._tz).date()
        found = idle = 0
        while idle <= _MAX_IDLE_DAYS:
            day += timedelta(days=1)
            span = self.working_hours_on(day)
            idle = 0 if span else idle + 1
            if span is not None and (found := found + 1) == days:
                return span[1]
        raise RuntimeError(f"no working time within {_MAX_IDLE_DAYS} days of {day}")

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime:
        """The UTC moment when `delta` of working time has passed since `start`."""
        if delta < timedelta(0):
            raise ValueError("delta must not be negative")
        instant = _as_utc(start)
        if self._hours.always_open:
            return instant + delta
        remaining = delta
        for opens, closes in self._spans_from(instant):
            begin = max(opens, instant)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); zero if `end` is not after `start`."""
        first, last = _as_utc(start), _as_utc(end)
        if last <= first:
            return timedelta(0)
        if self._hours.always_open:
            return last - first
        total = timedelta(0)
        for opens, closes in self._spans_from(first):
            if opens >= last:
                break
            total += min(closes, last) - max(opens, first)
        return total

    def _spans_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working spans (UTC) that end after `instant`, in order, one local day at a time."""
        day = instant.astimezone(self._tz).date()
        idle = 0
        while True:
            span = self.working_hours_on(day)
            if span is not None and span[1] > instant:
                idle = 0
                yield span
            elif (idle := idle + 1) > _MAX_IDLE_DAYS:
                raise RuntimeError(f"no working time within {_MAX_IDLE_DAYS} days of {day}")
            day += timedelta(days=1)

    def _compute_span(self, day: date) -> tuple[datetime, datetime] | None:
        if self._hours.always_open:
            return self._wall(day, 0), self._wall(day, _MINUTES_PER_DAY)
        hours = self._day_hours(day)
        if hours is None:
            return None
        closes = hours.closes - _PRE_HOLIDAY_CUT if self._is_pre_holiday(day) else hours.closes
        opening, closing = self._wall(day, hours.opens), self._wall(day, closes)
        # A schedule of an hour or less on a pre-holiday day, or a span lost in a DST gap.
        return (opening, closing) if closing > opening else None

    def _day_hours(self, day: date) -> DayHours | None:
        week, production = self._hours.week, self._production
        if production is None:
            return week[day.weekday()]
        if production.is_day_off(day):
            return None
        if not production.is_working_weekend(day):
            return week[day.weekday()]
        # A working Saturday works the day it was swapped with (the decree moves that day's
        # work); without that day's hours, the first configured working day's.
        replaced = production.replaced_day(day)
        if replaced is not None and week[replaced.weekday()] is not None:
            return week[replaced.weekday()]
        return next(hours for hours in week if hours is not None)

    def _is_pre_holiday(self, day: date) -> bool:
        """Labour Code art. 95: the working day directly before a non-working public holiday.

        A day before a transferred day off is not shortened. A working Saturday is shortened
        when the weekday it replaces would have been (Rostrud's reading: 1 Nov 2025 and 2 Nov
        2024 were short, 28 Dec 2024 was not).
        """
        production = self._production
        if production is None:
            return False
        if production.is_public_holiday(day + timedelta(days=1)):
            return True
        replaced = production.replaced_day(day) if production.is_working_weekend(day) else None
        return replaced is not None and production.is_public_holiday(replaced + timedelta(days=1))

    def _wall(self, day: date, minutes: int) -> datetime:
        """The UTC instant of a local wall time; 24:00 is the next day's midnight."""
        # Wall-clock arithmetic on an aware datetime keeps the zone and re-derives the offset,
        # so 09:00 stays 09:00 on a DST-change day.
        midnight = datetime.combine(day, time(), tzinfo=self._tz)
        return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}; pass a timezone-aware one")
    return moment.astimezone(UTC)
