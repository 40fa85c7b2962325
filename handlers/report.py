"""The weekly report: one ISO week's load and answer times, in figures and a short summary.

A report covers Monday 00:00 to the next Monday 00:00 in the desk's time zone. Its figures
come from the store's tickets of the week and nothing else, so a week's report says the same
whenever it is drawn:

- new messages a day on each platform: the tickets opened that day (a citizen's follow-ups
  join their open ticket, as in the daily digest);
- the first answers given in the week: their median and 90th percentile in working time,
  and how many took longer than the target (ESCALATION_AFTER);
- the tickets opened in the week that had no answer when it ended;
- the departments with the most new messages, where departments are set up.

The report goes once a week, at REPORT_AT on the first working day on or after the Monday
that follows the week (a holiday Monday moves it to the next working day); the store keeps
the last week sent, so a restart does not send it twice and a desk started late still does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from handlers.config import DeskConfig, WorkingClock
from handlers.digest import department_name, local_midnight, median, percentile
from handlers.escalation import duration
from handlers.model import Inbound
from handlers.outgoing import tell_staff
from handlers.texts import Texts
from storage.base import Store, Ticket
from storage.values import Outbound, Platform, Purpose

# The ISO week of the last report sent ("2026-W48"), kept in the store's state table.
STATE_KEY = "report:last"
# Written first in the job's transaction: its row lock makes a second desk's job wait there
# (PostgreSQL; SQLite's write lock does it anyway) and then read the first one's mark.
TURN_KEY = "report:turn"
TOP_DEPARTMENTS = 5
# Weeks not reported while the desk was down are sent when it is back, at most this many:
# a whole week of holidays (the New Year's) leaves two reports due on one day.
CATCH_UP_WEEKS = 2
# How far to look for a working day before giving up on the calendar.
_MAX_LOOKAHEAD_DAYS = 366
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)
PLATFORMS = (Platform.TELEGRAM, Platform.VK)


class WrongWeek(ValueError):
    """A week that is not `2026-W48`, or one that has not ended yet."""


def parse_week(text: str) -> date:
    """The Monday of an ISO week written as `2026-W48`; WrongWeek for anything else."""
    match = _WEEK.match(text.strip())
    if not match:
        raise WrongWeek(text)
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise WrongWeek(text) from None


def week_label(monday: date) -> str:
    """`2026-W48`: the ISO week's name, which also sorts as the weeks do."""
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def last_full_week(today: date) -> date:
    """The Monday of the last week that has ended by `today`."""
    return today - timedelta(days=today.weekday() + 7)


def first_working_day(calendar: WorkingClock, day: date) -> date:
    """`day` itself if it is a working day, else the next one."""
    for _ in range(_MAX_LOOKAHEAD_DAYS):
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)
    return day


def due_at(calendar: WorkingClock, monday: date, at: time, tz: tzinfo) -> datetime:
    """When the report of the week starting `monday` goes: REPORT_AT on the first working day
    on or after the next Monday."""
    day = first_working_day(calendar, monday + timedelta(days=7))
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What one weekly report says."""

    week: str  # 2026-W48
    first_day: date  # its Monday
    # New messages on each of the seven days, per platform.
    per_day: tuple[tuple[Platform, tuple[int, ...]], ...]
    answered: int  # first answers given in the week
    median: timedelta | None
    p90: timedelta | None
    target: timedelta  # ESCALATION_AFTER
    late: int  # of the first answers, those that took longer than the target
    unanswered: int  # opened in the week, no answer when it ended
    # (department, new messages), most first, at most TOP_DEPARTMENTS; () without departments.
    departments: tuple[tuple[str, int], ...] = ()
    other_departments: int = 0  # new messages of the departments not listed
    with_departments: bool = False  # the desk has departments (a quiet week lists none)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    @property
    def opened(self) -> int:
        return sum(sum(days) for _, days in self.per_day)

    def opened_on(self, platform: Platform) -> int:
        return sum(next((days for p, days in self.per_day if p is platform), ()))

    @property
    def late_share(self) -> float | None:
        """The share of first answers given late, 0 to 1; None without answers."""
        return self.late / self.answered if self.answered else None


def report_figures(
    calendar: WorkingClock, tickets: Sequence[Ticket], *, monday: date, tz: tzinfo,
    target: timedelta, department: Callable[[str | None], str] | None = None,
) -> ReportFigures:
    """The week's figures from its tickets (opened or first answered in it; others ignored).

    `department` names a ticket's department; None: the desk has no departments.
    """
    start = local_midnight(monday, tz)
    end = local_midnight(monday + timedelta(days=7), tz)
    opened = [t for t in tickets if start <= t.opened_at < end]
    counts = Counter(
        (t.platform, (t.opened_at.astimezone(tz).date() - monday).days) for t in opened
    )
    per_day = tuple(
        (platform, tuple(counts[platform, day] for day in range(7))) for platform in PLATFORMS
    )
    times = [
        calendar.working_time_between(t.opened_at, t.first_answer_at)
        for t in tickets
        if t.first_answer_at is not None and start <= t.first_answer_at < end
    ]
    unanswered = sum(t.first_answer_at is None or t.first_answer_at >= end for t in opened)
    departments: tuple[tuple[str, int], ...] = ()
    other = 0
    if department is not None:
        ranked = Counter(department(t.category) for t in opened).most_common()
        departments = tuple(ranked[:TOP_DEPARTMENTS])
        other = sum(count for _, count in ranked[TOP_DEPARTMENTS:])
    return ReportFigures(
        week=week_label(monday), first_day=monday, per_day=per_day, answered=len(times),
        median=median(times), p90=percentile(times, 0.9), target=target,
        late=sum(span > target for span in times), unanswered=unanswered,
        departments=departments, other_departments=other,
        with_departments=department is not None,
    )


async def week_figures(
    store: Store, texts: Texts, calendar: WorkingClock, config: DeskConfig, monday: date
) -> ReportFigures:
    """The figures of the week starting `monday`, read from the store."""
    tz = config.timezone
    tickets = await store.tickets_between(
        local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)
    )
    return report_figures(
        calendar, tickets, monday=monday, tz=tz, target=config.escalation_after,
        department=(
            (lambda key: department_name(texts, config, key))
            if config.departments is not None else None
        ),
    )


def percent(share: float) -> float:
    """A share as a percentage with at most one decimal, for the texts to format."""
    return round(share * 100, 1)


def day_words(texts: Texts, day: date) -> str:
    return texts.get("esc-date", day=day.day, month=day.month)


def summary_text(texts: Texts, figures: ReportFigures) -> str:
    """The report's words, plain text: the caption under the chart."""
    lines = [
        texts.get(
            "report-title", week=figures.week, first=day_words(texts, figures.first_day),
            last=day_words(texts, figures.last_day), year=figures.last_day.year,
        ),
        texts.get(
            "report-opened", count=figures.opened,
            telegram=figures.opened_on(Platform.TELEGRAM), vk=figures.opened_on(Platform.VK),
        ),
    ]
    target = duration(texts, figures.target)
    if figures.median is not None and figures.p90 is not None:
        lines.append(texts.get(
            "report-answer-times", count=figures.answered,
            median=duration(texts, figures.median), p90=duration(texts, figures.p90),
            target=target,
        ))
        lines.append(texts.get(
            "report-late", late=figures.late, count=figures.answered,
            percent=percent(figures.late_share or 0.0), target=target,
        ))
    else:
        lines.append(texts.get("report-no-answers"))
    lines.append(texts.get("report-unanswered", count=figures.unanswered))
    if figures.departments:
        items = [
            texts.get("report-department-item", department=name, count=count)
            for name, count in figures.departments
        ]
        if figures.other_departments:
            items.append(texts.get("report-department-others", count=figures.other_departments))
        lines.append(texts.get("report-departments", list="; ".join(items)))
    return "\n".join(lines)


def report_message(chat_id: str, monday: date, *, reply_to: str | None = None) -> Outbound:
    """The outbox row of a week's report: the week only; the chart is drawn when it goes."""
    return Outbound(
        platform=Platform.TELEGRAM, chat_id=chat_id, purpose=Purpose.REPORT,
        text=week_label(monday), reply_to=reply_to,
    )


def requested_week(argument: str, today: date) -> date:
    """The Monday of the week `/report [2026-W48]` asks for: the last full one by default;
    WrongWeek for a week that is not one or has not ended."""
    if not argument.strip():
        return last_full_week(today)
    monday = parse_week(argument)
    if monday > last_full_week(today):
        raise WrongWeek(argument)
    return monday


def on_request(texts: Texts, config: DeskConfig, inbound: Inbound, now: datetime) -> Outbound:
    """`/report [2026-W48]` in a staff-side chat: the week's report into that chat, or why not."""
    argument = inbound.text.strip().partition(" ")[2]
    chat_id = inbound.chat_id or config.staff_chat_id
    try:
        monday = requested_week(argument, now.astimezone(config.timezone).date())
    except WrongWeek:
        return tell_staff(
            chat_id, texts.get("report-wrong-week", given=argument.strip()),
            reply_to=inbound.message_id,
        )
    return report_message(chat_id, monday, reply_to=inbound.message_id)


def weeks_due(
    calendar: WorkingClock, config: DeskConfig, at: time, now: datetime, last_sent: str
) -> list[date]:
    """The Mondays of the weeks whose report is due by `now` and not sent yet, oldest first."""
    newest = last_full_week(now.astimezone(config.timezone).date())
    due = []
    # A new desk starts with the last week: the ones before it were not its to report.
    for back in range(CATCH_UP_WEEKS if last_sent else 1):
        monday = newest - timedelta(days=7 * back)
        if week_label(monday) <= last_sent:
            break
        if due_at(calendar, monday, at, config.timezone) <= now:
            due.append(monday)
    return sorted(due)


def report_chat(config: DeskConfig) -> str:
    """The supervisors' chat; the staff chat where there is none."""
    return config.escalation_chat_id or config.staff_chat_id


async def begin_reports(store: Store, config: DeskConfig, now: datetime) -> None:
    """A store made at this start reports from the week that begins now: the weeks before
    it were not its to report, and an empty report of them would only puzzle supervisors."""
    if not await store.get_state(STATE_KEY):
        last = last_full_week(now.astimezone(config.timezone).date())
        await store.set_state(STATE_KEY, week_label(last))


async def send_weekly_report(
    store: Store, calendar: WorkingClock, config: DeskConfig, at: time, now: datetime,
) -> list[str]:
    """The reports due by `now` into the supervisors' chat, once each; the weeks enqueued."""
    if not weeks_due(calendar, config, at, now, await store.get_state(STATE_KEY) or ""):
        return []
    async with store.transaction() as tx:
        # Checked again with the turn's row locked, so that of two desks running the job at
        # a handover of the scheduler's role only one enqueues (the other reads its mark);
        # the mark and the messages commit together.
        await tx.set_state(TURN_KEY, now.isoformat())
        mondays = weeks_due(calendar, config, at, now, await tx.get_state(STATE_KEY) or "")
        for monday in mondays:
            await tx.enqueue(report_message(report_chat(config), monday))
        if mondays:
            await tx.set_state(STATE_KEY, week_label(mondays[-1]))
    return [week_label(monday) for monday in mondays]
