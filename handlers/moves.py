"""Passing a ticket to another department («Отдел», `/move`): the card goes where it belongs.

`/move` as a reply to a card lists the departments as buttons; `/move housing` (or the
button) stores the new department, re-posts the card in its chat or forum topic, and takes
the buttons off the old card, under which staff are told where it went. Replies to the old
card still reach the ticket. `/move -` gives it back to the staff chat itself.
"""

from __future__ import annotations

from handlers import buttons, render
from handlers.audit import by, move_detail
from handlers.buttons import Buttons
from handlers.holders import Holders
from handlers.model import Inbound
from handlers.premises import Premises, Room
from storage.auditing import AuditAction
from storage.base import Ticket, Transaction
from storage.values import Outbound, Platform, Purpose

GENERAL = "-"  # `/move -`: back to the staff chat, no department


class Moves(Room):
    """`/move [key]` on one ticket, in the staff message's transaction."""

    def __init__(self, premises: Premises, holders: Holders) -> None:
        super().__init__(premises)
        self.holders = holders

    def name(self, category: str | None) -> str:
        """A department's name as staff read it; the staff chat's own for none."""
        return self.config.department_name(category) or self.texts.get("department-general")

    async def move(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, rest: str
    ) -> tuple[str, Buttons]:
        """Move the ticket, or list where it can go; returns what staff are told."""
        rules = self.config.departments
        if rules is None:
            return self.texts.get("move-none"), ()
        if not ticket.is_open:
            return self.texts.get("move-closed", number=ticket.id), ()
        words = rest.split()
        current = self.name(ticket.category)
        if len(words) < 2:
            choices = [(d.name, d.key) for d in rules.departments if d.key != ticket.category]
            if ticket.category is not None:
                choices.append((self.texts.get("department-general"), GENERAL))
            return self.texts.get("move-choose", number=ticket.id, current=current), \
                buttons.departments(choices)
        key = words[1]
        target = None if key == GENERAL else rules.department(key)
        if target is None and key != GENERAL:
            return self.texts.get("move-unknown", number=ticket.id, wanted=key), ()
        category = target.key if target else None
        if category == ticket.category:
            return self.texts.get("move-same", number=ticket.id, department=current), ()
        await tx.set_category(ticket.id, category)
        await tx.audit(by(inbound, self.now(), AuditAction.MOVED, ticket=ticket.id,
                          detail=move_detail(ticket.category, category)))
        moved = await tx.ticket(ticket.id)
        assert moved is not None  # in this very transaction
        old_card = await self.holders.card_edit(tx, ticket, "", remove=True)
        if old_card is not None:
            await tx.enqueue(old_card)
        await tx.enqueue(await self.new_card(tx, moved, current, inbound.author_name))
        return self.texts.get(
            "move-done", number=ticket.id, department=self.name(category)
        ), ()

    async def new_card(
        self, tx: Transaction, ticket: Ticket, moved_from: str, moved_by: str
    ) -> Outbound:
        """The ticket's card posted anew where it belongs, with the conversation so far and
        where it came from (a department, an incident) and who sent it."""
        chat_id, topic = self.config.place(ticket.category)
        text = render.moved_card_html(
            self.texts, ticket, await tx.messages(ticket.id), self.config.timezone,
            department=self.config.department_name(ticket.category),
            moved_from=moved_from, moved_by=moved_by,
        )
        return Outbound(
            platform=Platform.TELEGRAM, chat_id=chat_id, topic=topic, purpose=Purpose.CARD,
            text=text, html=True, ticket_id=ticket.id,
            buttons=self.holders.card_buttons(ticket),
        )
