"""`/queue` in the staff chat: the tickets waiting for an answer, oldest first."""

from __future__ import annotations

from datetime import datetime

from handlers.config import DeskConfig, WorkingClock
from handlers.escalation import duration
from handlers.render import clean
from handlers.texts import Texts, escape
from storage.base import Ticket, Transaction
from storage.values import Outbound, Platform, Purpose

# Enough to act on in one look; the rest is counted. The sender splits long HTML anyway.
QUEUE_LIMIT = 50
SUMMARY_LENGTH = 80


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


def queue_html(
    texts: Texts, calendar: WorkingClock, tickets: list[Ticket], total: int, now: datetime,
    *, config: DeskConfig | None = None,
) -> str:
    """The whole list as staff-chat HTML."""
    if not tickets:
        return texts.get("queue-empty")
    lines = [texts.get("queue-header", count=total)]
    lines += [
        queue_line(texts, calendar, ticket, now,
                   config.department_name(ticket.category) if config else None)
        for ticket in tickets
    ]
    if total > len(tickets):
        lines.append(texts.get("queue-more", count=total - len(tickets)))
    return "\n".join(lines)


async def show_queue(
    tx: Transaction, texts: Texts, calendar: WorkingClock, config: DeskConfig, *,
    now: datetime, reply_to: str | None = None, chat_id: str = "",
) -> None:
    """Answer `/queue` in the staff chat (or the supervisors' chat it was asked in).

    The list names its tickets (`refers`): a reply starting with `№<n>` answers that one.
    """
    tickets = await tx.waiting_tickets(QUEUE_LIMIT)
    total = await tx.waiting_count() if len(tickets) >= QUEUE_LIMIT else len(tickets)
    await tx.enqueue(Outbound(
        platform=Platform.TELEGRAM,
        chat_id=chat_id or config.staff_chat_id,
        purpose=Purpose.STAFF_NOTICE,
        text=queue_html(texts, calendar, tickets, total, now, config=config),
        html=True,
        reply_to=reply_to,
        refers=tuple(ticket.id for ticket in tickets),
    ))
