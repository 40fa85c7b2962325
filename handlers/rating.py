"""Ratings: the citizen is asked whether the answer helped when the ticket is closed."""

from __future__ import annotations

from handlers.outgoing import to_citizen
from handlers.premises import Room
from storage.base import Ticket
from storage.values import Outbound, Purpose


class Ratings(Room):
    """The closing message and the citizen's rating of the answer."""

    def closing(self, ticket: Ticket) -> Outbound:
        """The message that tells the citizen the ticket is closed."""
        return to_citizen(ticket, Purpose.CLOSING, self.texts.get("closing", number=ticket.id))
