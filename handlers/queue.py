"""`/queue` in the staff chat: the tickets waiting for an answer, oldest first.

The tickets of a confirmed incident are one line, where its longest waiting ticket would be:
one reply to its card answers them all. Those of a suggested one are listed as any other.
"""

from __future__ import annotations

from datetime import datetime

from handlers.config import DeskConfig, WorkingClock
from handlers.escalation import duration
from handlers.incident_card import incident_number
from handlers.render import clean
from handlers.texts import Texts, escape
from storage.base import Incident, Ticket, Transaction
from storage.values import Outbound, Platform, Purpose

# Enough to act on in one look (lines, an incident being one); the rest is counted. The
# sender splits long HTML anyway.
QUEUE_LIMIT = 50
SUMMARY_LENGTH = 80

# An open incident, how many of its tickets wait, and since when the longest has.
WaitingIncident = tuple[Incident, int, datetime]


def short(summary: str) -> str:
    """The start of a ticket's text, short enough for one line of a list."""
    return summary if len(summary) <= SUMMARY_LENGTH else summary[: SUMMARY_LENGTH - 1] + "…"


def queue_line(
    texts: Texts, calendar: WorkingClock, ticket: Ticket, now: datetime,
    department: str | None = None,
) -> str:
    """One waiting ticket: its number, working time left or overdue, its start; and its
    department, where it has one."""
    summary = escape(short(clean(ticket.summary) or texts.get("empty-text")))
    deadline = ticket.deadline_at or now
    if deadline > now:
        left = duration(texts, calendar.working_time_between(now, deadline))
        line = texts.get("queue-item-left", number=ticket.id, left=left, summary=summary)
    else:
        overdue = duration(texts, calendar.working_time_between(deadline, now))
        line = texts.get("queue-item-overdue", number=ticket.id, overdue=overdue,
                         summary=summary)
    if department:
        line += " · " + texts.html("queue-department", department=department)
    return line


def incident_line(
    texts: Texts, waiting: WaitingIncident, department: str | None = None
) -> str:
    """A confirmed incident's waiting tickets as one line: its number, how many, its title."""
    incident, count, _ = waiting
    number = incident_number(texts, incident.id)
    line = texts.html("queue-incident", incident=number, count=count, title=incident.title)
    if department:
        line += " · " + texts.html("queue-department", department=department)
    return line


def in_queue_order(
    tickets: list[Ticket], incidents: list[WaitingIncident]
) -> list[Ticket | WaitingIncident]:
    """Tickets and incidents in one list, the longest waiting first; at the same moment an
    incident before the tickets."""
    def waited(entry: Ticket | WaitingIncident) -> tuple[datetime, int]:
        if isinstance(entry, Ticket):
            return entry.waiting_since or entry.opened_at, entry.id
        return entry[2], 0

    return sorted([*tickets, *incidents], key=waited)


def queue_html(
    texts: Texts, calendar: WorkingClock, entries: list[Ticket | WaitingIncident], total: int,
    now: datetime, *, config: DeskConfig | None = None,
) -> str:
    """The whole list as staff-chat HTML; `total` and what is left over count tickets."""
    if not entries:
        return texts.get("queue-empty")
    lines = [texts.get("queue-header", count=total)]
    shown = 0
    for entry in entries:
        if isinstance(entry, Ticket):
            department = config.department_name(entry.category) if config else None
            lines.append(queue_line(texts, calendar, entry, now, department))
            shown += 1
        else:
            department = config.department_name(entry[0].category) if config else None
            lines.append(incident_line(texts, entry, department))
            shown += entry[1]
    if total > shown:
        lines.append(texts.get("queue-more", count=total - shown))
    return "\n".join(lines)


async def show_queue(
    tx: Transaction, texts: Texts, calendar: WorkingClock, config: DeskConfig, *,
    now: datetime, reply_to: str | None = None, chat_id: str = "",
) -> None:
    """Answer `/queue` in the staff chat (or the supervisors' chat it was asked in).

    The list names its tickets (`refers`): a reply starting with `№<n>` answers that one.
    An incident's tickets are not named: its card is where one answer reaches them all.
    """
    tickets = await tx.waiting_outside_incidents(QUEUE_LIMIT)
    incidents = await tx.waiting_incidents()
    if len(tickets) >= QUEUE_LIMIT:
        total = await tx.waiting_count()
    else:
        total = len(tickets) + sum(count for _, count, _ in incidents)
    entries = in_queue_order(tickets, incidents)[:QUEUE_LIMIT]
    await tx.enqueue(Outbound(
        platform=Platform.TELEGRAM,
        chat_id=chat_id or config.staff_chat_id,
        purpose=Purpose.STAFF_NOTICE,
        text=queue_html(texts, calendar, entries, total, now, config=config),
        html=True,
        reply_to=reply_to,
        refers=tuple(entry.id for entry in entries if isinstance(entry, Ticket)),
    ))
