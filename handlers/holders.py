"""Taking a ticket («Взять», `/take`): one staff member holds it, and the card shows who.

The holder is stored on the ticket; the card's buttons are replaced so that «Взять» names
them, and the level-1 reminder of the escalation ladder mentions them. Another staff member
may take it over (the card then names them); the one who holds it pressing again is told so.
"""

from __future__ import annotations

from handlers import buttons
from handlers.audit import by
from handlers.model import Inbound
from handlers.premises import Room
from handlers.texts import escape
from storage.auditing import AuditAction
from storage.base import Ticket, Transaction
from storage.values import Outbound, Platform, Purpose


class Holders(Room):
    """`/take` and the «Взять» button, in the staff message's transaction."""

    async def take(self, tx: Transaction, ticket: Ticket, inbound: Inbound) -> str | None:
        """The presser holds the ticket; returns what staff are told, None when the card
        itself shows it."""
        if not ticket.is_open:
            return self.texts.get("staff-take-closed", number=ticket.id)
        if ticket.holder_id == inbound.author_id:
            return self.texts.get("staff-take-yours", number=ticket.id)
        await tx.take(ticket.id, inbound.author_id, inbound.author_name)
        await tx.audit(by(inbound, self.now(), AuditAction.TAKEN, ticket=ticket.id,
                          detail=ticket.holder_name or ""))
        if ticket.holder_name:
            told = self.texts.get("staff-taken-over", number=ticket.id,
                                  holder=inbound.author_name, previous=ticket.holder_name)
        else:
            told = self.texts.get("staff-taken", number=ticket.id, holder=inbound.author_name)
        taken = await tx.ticket(ticket.id)
        edit = await self.card_edit(tx, taken, told) if taken else None
        if edit is None:
            return told
        await tx.enqueue(edit)
        # Taken from someone: said in words as well, so that they hear of it.
        return told if ticket.holder_name else None

    def card_buttons(self, ticket: Ticket) -> buttons.Buttons:
        """The buttons of a ticket's card as it stands: who holds it, «Отдел» where there
        are departments."""
        return buttons.card(self.texts, holder=ticket.holder_name,
                            moves=self.config.departments is not None)

    async def card_edit(
        self, tx: Transaction, ticket: Ticket, fallback: str, *, remove: bool = False
    ) -> Outbound | None:
        """New buttons on the ticket's card (none, with `remove`); `fallback` is said under
        it instead where Telegram cannot edit it. None when the card is not one the desk can
        edit: not sent yet, or a merged message naming several tickets."""
        chat_id, message_id = ticket.card_chat_id, ticket.card_message_id
        if chat_id is None or message_id is None:
            return None
        if len(await tx.ticket_by_ref(Platform.TELEGRAM, chat_id, message_id)) != 1:
            return None
        return Outbound(
            platform=Platform.TELEGRAM, chat_id=chat_id, purpose=Purpose.CARD_EDIT,
            text=escape(fallback), html=True, ticket_id=ticket.id, edits=message_id,
            reply_to=message_id, buttons=() if remove else self.card_buttons(ticket),
        )
