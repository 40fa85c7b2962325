"""What staff do to a ticket besides answering it: close, block; each returns what staff are told.

A typed command and a pressed button arrive here the same way, through the staff desk, so
the two can never differ.
"""

from __future__ import annotations

from handlers.premises import Premises, Room
from handlers.rating import Ratings
from storage.base import Ticket, Transaction


class TicketActions(Room):
    """Closing and blocking, in the transaction of the staff message that asked for them."""

    def __init__(self, premises: Premises) -> None:
        super().__init__(premises)
        self.ratings = Ratings(premises)

    async def close(self, tx: Transaction, ticket: Ticket) -> str:
        """Closed, and the citizen told (and asked to rate the answer); a second close only
        says it is closed."""
        closed = self.texts.get("staff-closed", number=ticket.id)
        if ticket.is_open:
            await tx.close_ticket(ticket.id, self.now())
            await tx.enqueue(self.ratings.closing(ticket))
        return closed

    async def block(self, tx: Transaction, ticket: Ticket, *, blocked: bool) -> str:
        """The citizen's new messages are ignored (or taken again)."""
        await tx.set_blocked(ticket.platform, ticket.citizen_id, blocked)
        key = "staff-blocked" if blocked else "staff-unblocked"
        return self.texts.get(key, number=ticket.id)
