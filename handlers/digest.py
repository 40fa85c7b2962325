"""The daily digest in the staff chat: the last days' load, today's backlog, answer times.

A digest goes out on working days only, so the one on a working day covers every calendar
day since the previous working day began: on Tuesday, Monday; on Monday, Friday to Sunday;
after the New Year holidays, all of them. No day is left out and none is counted twice.

Mass incidents open at any time in the period, or closed in it, get a line each: how many
wrote about it on each platform, when the first did, when staff answered them all.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo

from handlers.config import DeskConfig, WorkingClock
from handlers.escalation import duration
from handlers.incident_card import incident_number
from handlers.texts import Texts, escape
from storage.base import Incident, Store, Ticket
from storage.values import Outbound, Platform, Purpose

# The local date of the last digest sent, kept in the store's state table.
STATE_KEY = "digest:last"
OVERDUE_LIST_LIMIT = 20
INCIDENT_LIST_LIMIT = 10
# How far back to look for the previous working day before giving up on the calendar.
_MAX_LOOKBACK_DAYS = 366


@dataclass(frozen=True, slots=True)
class DigestFigures:
    """What one digest says."""

    first_day: date
    last_day: date
    opened: int
    answered: int
    open_now: int  # not closed, answered or not
    waiting_now: int  # waiting on staff
    overdue: tuple[int, ...]  # numbers of tickets past their deadline now
    median: timedelta | None
    p90: timedelta | None
    interim: int = 0  # tickets whose latest interim answer (a new deadline) is in the period
    # Where departments are set up: (department, new messages), most first; and
    # (department, average rating, ratings) of the ratings given in the period.
    departments: tuple[tuple[str, int], ...] = ()
    ratings: tuple[tuple[str, float, int], ...] = ()
    # Incidents of the period: (incident, Telegram tickets, VK tickets, the first's opening).
    incidents: tuple[tuple[Incident, int, int, datetime], ...] = ()


def by_department(
    opened: Sequence[Ticket], ratings: Sequence[tuple[str | None, int]], name: Callable[
        [str | None], str], *, with_departments: bool,
) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, float, int], ...]]:
    """New messages and ratings per department, by the departments' names."""
    counts = Counter(name(t.category) for t in opened) if with_departments else Counter()
    scores: dict[str, list[int]] = defaultdict(list)
    for category, score in ratings:
        scores[name(category) if with_departments else ""].append(score)
    return (
        tuple(counts.most_common()),
        tuple((who, sum(s) / len(s), len(s)) for who, s in sorted(scores.items())),
    )


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value; the mean of the two middle ones for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[timedelta], share: float) -> timedelta | None:
    """Nearest-rank percentile: the smallest value at least `share` of them do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def period_of(calendar: WorkingClock, today: date) -> tuple[date, date]:
    """The first and last calendar day a digest sent on `today` covers."""
    yesterday = today - timedelta(days=1)
    day = yesterday
    for _ in range(_MAX_LOOKBACK_DAYS):
        if calendar.is_working_day(day):
            return day, yesterday
        day -= timedelta(days=1)
    return yesterday, yesterday


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The moment a local day begins."""
    return datetime.combine(day, time(), tzinfo=tz)


def digest_figures(
    calendar: WorkingClock, period: Sequence[Ticket], open_now: Sequence[Ticket], *,
    start: datetime, end: datetime, now: datetime, first_day: date, last_day: date,
) -> DigestFigures:
    """The digest's numbers from the tickets of the period and those open now."""
    opened = [t for t in period if start <= t.opened_at < end]
    answer_times = [
        calendar.working_time_between(t.opened_at, t.first_answer_at)
        for t in period
        if t.first_answer_at is not None and start <= t.first_answer_at < end
    ]
    overdue = sorted(
        t.id for t in open_now
        if t.waiting_since is not None and t.deadline_at is not None and t.deadline_at <= now
    )
    return DigestFigures(
        first_day=first_day, last_day=last_day, opened=len(opened),
        answered=len(answer_times), open_now=len(open_now),
        waiting_now=sum(t.waiting_since is not None for t in open_now), overdue=tuple(overdue),
        median=median(answer_times), p90=percentile(answer_times, 0.9),
        interim=sum(t.interim_at is not None and start <= t.interim_at < end for t in period),
    )


def _date(texts: Texts, day: date) -> str:
    return texts.get("esc-date", day=day.day, month=day.month)


def _moment(texts: Texts, moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return texts.get("digest-moment", day=_date(texts, local.date()),
                     time=f"{local.hour:02d}:{local.minute:02d}")


def incident_lines(
    texts: Texts, incidents: Sequence[tuple[Incident, int, int, datetime]], tz: tzinfo
) -> list[str]:
    """The period's incidents, one line each up to INCIDENT_LIST_LIMIT, the rest counted."""
    if not incidents:
        return []
    lines = [texts.get("digest-incidents", count=len(incidents))]
    for incident, telegram, vk, first in incidents[:INCIDENT_LIST_LIMIT]:
        answer = (
            texts.get("digest-incident-answered", at=_moment(texts, incident.answered_at, tz))
            if incident.answered_at is not None else texts.get("digest-incident-unanswered")
        )
        lines.append(texts.get(
            "digest-incident", incident=incident_number(texts, incident.id),
            title=escape(incident.title), count=telegram + vk, telegram=telegram, vk=vk,
            first=_moment(texts, first, tz), answer=answer,
        ))
    hidden = len(incidents) - INCIDENT_LIST_LIMIT
    if hidden > 0:
        lines.append(texts.get("digest-more", count=hidden))
    return lines


def digest_html(texts: Texts, figures: DigestFigures, *, tz: tzinfo) -> str:
    """The digest as staff-chat HTML, its moments in the desk's time zone."""
    if figures.first_day == figures.last_day:
        title = texts.get("digest-title-day", day=_date(texts, figures.last_day))
    else:
        title = texts.get(
            "digest-title-days", first=_date(texts, figures.first_day),
            last=_date(texts, figures.last_day),
        )
    lines = [
        title,
        texts.get("digest-opened", count=figures.opened),
        texts.get("digest-answered", count=figures.answered),
    ]
    if figures.median is not None and figures.p90 is not None:
        lines.append(texts.get(
            "digest-answer-times", median=duration(texts, figures.median),
            p90=duration(texts, figures.p90),
        ))
    else:
        lines.append(texts.get("digest-no-answers"))
    if figures.interim:
        lines.append(texts.get("digest-interim", count=figures.interim))
    if figures.departments:
        lines.append(texts.get("digest-departments", list="; ".join(
            texts.get("digest-department-item", department=escape(who), count=count)
            for who, count in figures.departments
        )))
    if figures.ratings:
        lines.append(texts.get("digest-ratings", list="; ".join(
            texts.get("digest-rating-item" if who else "digest-rating-all",
                      department=escape(who), average=f"{average:.1f}", count=count)
            for who, average, count in figures.ratings
        )))
    lines += incident_lines(texts, figures.incidents, tz)
    lines.append(texts.get(
        "digest-open-now", count=figures.open_now, waiting=figures.waiting_now
    ))
    lines.append(texts.get("digest-overdue-now", count=len(figures.overdue)))
    if figures.overdue:
        shown = figures.overdue[:OVERDUE_LIST_LIMIT]
        numbers = ", ".join(f"№{number}" for number in shown)
        hidden = len(figures.overdue) - len(shown)
        if hidden:
            numbers += " " + texts.get("digest-more", count=hidden)
        lines.append(texts.get("digest-overdue-list", numbers=numbers))
    return "\n".join(lines)


def department_name(texts: Texts, config: DeskConfig, key: str | None) -> str:
    """A department's name; the staff chat's own for none, or one no longer in the file."""
    return config.department_name(key) or texts.get("department-general")


async def send_digest(
    store: Store, texts: Texts, calendar: WorkingClock, config: DeskConfig, now: datetime,
) -> bool:
    """Today's digest into the staff chat, once a day, on working days; True if enqueued."""
    today = now.astimezone(config.timezone).date()
    if not calendar.is_working_day(today):
        return False
    mark = today.isoformat()
    if (await store.get_state(STATE_KEY) or "") >= mark:
        return False
    first_day, last_day = period_of(calendar, today)
    start = local_midnight(first_day, config.timezone)
    end = local_midnight(today, config.timezone)
    period = await store.tickets_between(start, end)
    figures = digest_figures(
        calendar, period, await store.open_tickets(),
        start=start, end=end, now=now, first_day=first_day, last_day=last_day,
    )
    departments, ratings = by_department(
        [t for t in period if start <= t.opened_at < end],
        await store.ratings_between(start, end), lambda key: department_name(texts, config, key),
        with_departments=config.departments is not None,
    )
    figures = replace(
        figures, departments=departments, ratings=ratings,
        incidents=tuple(await store.incidents_between(start, end)),
    )
    async with store.transaction() as tx:
        # Checked again under the write lock: the mark and the message commit together.
        if (await tx.get_state(STATE_KEY) or "") >= mark:
            return False
        await tx.enqueue(Outbound(
            platform=Platform.TELEGRAM,
            chat_id=config.staff_chat_id,
            purpose=Purpose.DIGEST,
            text=digest_html(texts, figures, tz=config.timezone),
            html=True,
            # A reply starting with `№<n>` answers one of the overdue tickets it lists.
            refers=figures.overdue[:OVERDUE_LIST_LIMIT],
        ))
        await tx.set_state(STATE_KEY, mark)
    return True
