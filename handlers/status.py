"""/status and «статус»: a citizen's own open tickets — number, state, deadline; never a ticket.

A citizen is shown only what is theirs: the open tickets they opened on the platform they ask
from (their messages and their comments), read by their platform id. Summaries are never
shown, only the number, the state and the deadline. The rules of commands (never to a blocked
citizen, at most once a minute) are the intake's, which answers through this room.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from handlers.model import Inbound
from handlers.premises import Room
from handlers.texts import Texts
from storage.base import Ticket, Transaction
from storage.values import Outbound, Purpose

LISTED = 10  # tickets named in one answer; the others are counted («и ещё N»)
# The whole text of a message: «статус», «/status» (on Telegram maybe «/status@bot»).
_ASKS = re.compile(r"статус|/status(?:@\w+)?", re.IGNORECASE)


def asks_status(text: str) -> bool:
    """A message that is a status request and nothing else, in any case, spaces around."""
    return _ASKS.fullmatch(text.strip()) is not None


def ticket_line(texts: Texts, ticket: Ticket, tz: tzinfo, now: datetime) -> str:
    """One ticket: answered, overdue, interim (since when, until when) or accepted (until)."""
    if ticket.waiting_since is None:  # staff answered; nothing waits on them
        return texts.get("status-answered", number=ticket.id)
    deadline = ticket.deadline_at
    until = texts.moment(deadline.astimezone(tz)) if deadline is not None else None
    if deadline is not None and deadline <= now:  # a date gone by is no promise
        return texts.get("status-overdue", number=ticket.id, deadline=until)
    interim = ticket.interim_at
    # An interim answer counts for the wait it was given in, not for one after a later answer.
    if interim is not None and interim >= ticket.waiting_since and until is not None:
        return texts.get(
            "status-interim", number=ticket.id, date=texts.moment(interim.astimezone(tz)),
            deadline=until,
        )
    if until is not None:
        return texts.get("status-accepted-until", number=ticket.id, deadline=until)
    return texts.get("status-accepted", number=ticket.id)


def status_text(
    texts: Texts, tickets: Sequence[Ticket], more: int, tz: tzinfo, now: datetime
) -> str:
    """The answer: the tickets listed, how many more there are; or how to write one."""
    if not tickets:
        return texts.get("status-none")
    lines = [texts.get("status-header")]
    lines.extend(ticket_line(texts, ticket, tz, now) for ticket in tickets)
    if more > 0:
        lines.append(texts.get("status-more", count=more))
    return "\n".join(lines)


class Status(Room):
    """What a citizen's status request is answered with, read in the intake's transaction."""

    async def reply(self, tx: Transaction, inbound: Inbound) -> Outbound:
        platform, citizen = inbound.platform, inbound.author_id
        tickets = await tx.citizen_tickets(platform, citizen, LISTED)
        more = 0
        if len(tickets) >= LISTED:
            more = await tx.citizen_open_count(platform, citizen) - len(tickets)
        text = status_text(self.texts, tickets, more, self.config.timezone, self.now())
        return Outbound(
            inbound.platform, inbound.chat_id, Purpose.NOTICE, text,
            reply_to=inbound.message_id,
        )
