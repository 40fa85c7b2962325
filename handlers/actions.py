"""What staff do to a ticket besides answering it: close, block; each returns what staff are told.

A typed command and a pressed button arrive here the same way, through the staff desk, so
the two can never differ.
"""

from __future__ import annotations

from handlers.audit import by
from handlers.model import Inbound
from handlers.outgoing import to_citizen
from handlers.premises import Premises, Room
from handlers.rating import Ratings
from storage.auditing import AuditAction
from storage.base import Ticket, Transaction
from storage.values import Purpose


class TicketActions(Room):
    """Closing and blocking, in the transaction of the staff message that asked for them."""

    def __init__(self, premises: Premises) -> None:
        super().__init__(premises)
        self.ratings = Ratings(premises)

    async def close(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, *, incident: int | None = None
    ) -> str:
        """Closed by the author of `inbound` (with all of `incident`), and the citizen told
        (and asked to rate the answer); a second close only says it is closed."""
        closed = self.texts.get("staff-closed", number=ticket.id)
        if ticket.is_open:
            await tx.close_ticket(ticket.id, self.now())
            # The citizen asked to be forgotten (handlers/forget.py): anonymized now, and
            # told without a rating to ask for.
            if await tx.forget_on_close(ticket.id, self.now()):
                text = self.texts.get("closing", number=ticket.id)
                await tx.enqueue(to_citizen(ticket, Purpose.CLOSING, text))
                closed += "\n" + self.texts.get("forget-staff-closed", number=ticket.id)
            else:
                await tx.enqueue(self.ratings.closing(ticket))
            await tx.audit(by(inbound, self.now(), AuditAction.CLOSED, ticket=ticket.id,
                              incident=incident))
        return closed

    async def block(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, *, blocked: bool
    ) -> str:
        """The citizen's new messages are ignored (or taken again)."""
        await tx.set_blocked(ticket.platform, ticket.citizen_id, blocked)
        action = AuditAction.BLOCKED if blocked else AuditAction.UNBLOCKED
        await tx.audit(by(inbound, self.now(), action, ticket=ticket.id))
        key = "staff-blocked" if blocked else "staff-unblocked"
        return self.texts.get(key, number=ticket.id)
