"""Interim answers: staff tell a citizen the answer takes longer, and by when it will come.

Practice in the regions: an answer within the working day, or an interim answer naming the
new date (Sevastopol: within 7 working days). `/interim 5 reason` as a reply to a card sets
the deadline to the close of the 5th working day from today on the desk's calendar; the
escalation ladder starts again from it, and the digest counts interim answers.
"""

from __future__ import annotations

import re

from handlers import buttons
from handlers.audit import by
from handlers.buttons import Buttons
from handlers.model import Inbound
from handlers.outgoing import to_citizen
from handlers.premises import Room
from storage.auditing import AuditAction
from storage.base import MessageRecord, Ticket, Transaction
from storage.values import Purpose

MAX_DAYS = 60  # a quarter of a year of working days: anything longer is no interim answer
_DAYS = re.compile(r"[0-9]{1,3}")  # ASCII digits only: int() would take «５» and «²» too


class Interim(Room):
    """`/interim N [reason]` on one ticket, in the staff's transaction."""

    async def give(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, rest: str
    ) -> tuple[str, Buttons]:
        """Set the new deadline and tell the citizen; returns what staff are told.

        Without a good number of days staff get the usage, with buttons for the usual ones.
        """
        if not ticket.is_open:
            return self.texts.get("staff-interim-closed", number=ticket.id), ()
        words = rest.strip().split(maxsplit=2)
        days = int(words[1]) if len(words) > 1 and _DAYS.fullmatch(words[1]) else 0
        if not 1 <= days <= MAX_DAYS:
            usage = self.texts.get("staff-interim-usage", most=MAX_DAYS)
            return usage, buttons.interim(self.texts)
        now = self.now()
        deadline = self.calendar.working_days_later(now, days)
        local = self.texts.moment(deadline.astimezone(self.config.timezone))
        current = ticket.deadline_at
        if current is not None and deadline <= current:
            # «The answer takes longer» with an earlier date would be untrue: nothing is sent.
            return self.texts.get(
                "staff-interim-not-later", number=ticket.id, deadline=local,
                current=self.texts.moment(current.astimezone(self.config.timezone)),
            ), ()
        text = self.texts.get("interim-citizen", number=ticket.id, deadline=local)
        reason = words[2].strip() if len(words) > 2 else ""
        if reason:
            # Outside Fluent: a placeable is cut at 1,000 characters, staff's words are not.
            text += f"\n{self.texts.get('interim-reason')} {reason}"
        await tx.enqueue(to_citizen(ticket, Purpose.ANSWER, text))
        # Recorded with the staff message's key: handled twice, it is not sent twice.
        await tx.add_message(MessageRecord(
            ticket_id=ticket.id, direction="out", created_at=now, text=text,
            author=inbound.author_name, source_key=inbound.source_key,
            platform_message_id=inbound.message_id,
        ))
        await tx.interim(ticket.id, now, deadline)
        await tx.audit(by(inbound, now, AuditAction.INTERIM, ticket=ticket.id, detail=str(days)))
        return self.texts.get("staff-interim-set", number=ticket.id, deadline=local), ()
